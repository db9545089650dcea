"""Swedish BM25 as Qdrant sparse vectors.

Documents carry the BM25 term-frequency part; Qdrant's IDF modifier supplies the inverse document
frequency at query time from the collection itself, so adding or removing a file never requires
re-weighting the others. Queries carry weight 1 per distinct term. The same analyzer (Snowball
Swedish stemmer, Swedish stop words) runs on both sides.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import Stemmer
from stop_words import get_stop_words

ANALYZER_ID = "bm25-sv-snowball-v1"
_TOKEN = re.compile(r"\w+", re.UNICODE)
_K1 = 1.2
_B = 0.75
# A fixed average length keeps each chunk's weights independent of the rest of the corpus.
_AVG_LEN = 120.0


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("swedish")


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    return frozenset(get_stop_words("swedish"))


def analyze(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"(\d)[\s,.](?=\d{3}\b)", r"\1", text)  # 118 337 and 118337 are one term
    tokens = [t for t in _TOKEN.findall(text) if t not in _stop_words() and not t == "_"]
    return _stemmer().stemWords(tokens)


def term_index(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


def document_vector(text: str) -> SparseVector:
    terms = analyze(text)
    counts = Counter(term_index(t) for t in terms)
    length = len(terms)
    norm = _K1 * (1 - _B + _B * length / _AVG_LEN)
    indices = sorted(counts)
    return SparseVector(indices, [counts[i] * (_K1 + 1) / (counts[i] + norm) for i in indices])


def query_vector(text: str) -> SparseVector:
    indices = sorted({term_index(t) for t in analyze(text)})
    return SparseVector(indices, [1.0] * len(indices))
