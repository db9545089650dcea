"""The gold sets' format and provenance, and the scoring and runner logic on small hand-made inputs.

Both gold files are checked by the same rules: dev.jsonl (tuned on) and test.jsonl (held out, never tuned on).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.schemas import Answer, AskRequest, Citation, Passage
from eval.run import cited_evidence, evaluate, load_gold, run_all, to_request, write_outputs
from eval.scoring import (
    METRIC_KEYS,
    Evidence,
    GoldQuestion,
    GoldSource,
    Outcome,
    check_thresholds,
    citations_resolve,
    contains_all,
    covers,
    first_hit_rank,
    marker_numbers,
    missing_terms,
    norm_words,
    percentile,
    summarize,
    term_words,
)

ROOT = Path(__file__).resolve().parent.parent
GOLD_DIR = ROOT / "eval" / "gold"
GOLD = GOLD_DIR / "dev.jsonl"
CORPUS = ROOT / "corpus"
KEYS = {"id", "question", "language", "type", "answer", "must_include", "sources", "history"}


@dataclass(frozen=True)
class Split:
    """What each gold file must hold: its id prefix, its size and the questions per type."""

    id_prefix: str
    min_rows: int
    min_per_type: dict[str, int]


SPLITS = {
    "dev": Split("q", 85, {
        "factoid": 15, "list": 8, "numeric": 10, "temporal": 8, "multi_doc": 6, "procedural": 6,
        "minutes_decision": 10, "conversational_followup": 6, "unanswerable": 12,
    }),
    "test": Split("t", 70, {
        "factoid": 10, "list": 6, "numeric": 8, "temporal": 6, "multi_doc": 5, "procedural": 5,
        "minutes_decision": 7, "conversational_followup": 5, "unanswerable": 12,
    }),
}
TYPES = set(SPLITS["dev"].min_per_type)


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read_rows(split: str) -> list[dict]:
    text = (GOLD_DIR / f"{split}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module", params=sorted(SPLITS))
def split(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def rows(split) -> list[dict]:
    return read_rows(split)


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    return {p.name: collapse(p.read_text(encoding="utf-8")) for p in CORPUS.glob("*.txt")}


# -- the gold file --------------------------------------------------------------------------------

def test_gold_rows_have_exactly_the_keys_and_allowed_values(rows, split):
    for row in rows:
        assert set(row) == KEYS, row.get("id")
        assert re.fullmatch(rf"{SPLITS[split].id_prefix}\d{{3}}", row["id"]), row["id"]
        assert row["language"] in {"sv", "en"}, row["id"]
        assert row["type"] in TYPES, row["id"]
        assert row["question"].strip() and row["answer"].strip(), row["id"]
        assert all(isinstance(m, str) and m.strip() for m in row["must_include"]), row["id"]
        assert all(isinstance(h, str) and h.strip() for h in row["history"]), row["id"]
        assert all(set(s) == {"file", "quote"} for s in row["sources"]), row["id"]


def test_gold_ids_are_unique(rows):
    assert len({r["id"] for r in rows}) == len(rows)


def test_gold_counts_per_type_and_language(rows, split):
    assert len(rows) >= SPLITS[split].min_rows
    per_type = Counter(r["type"] for r in rows)
    short = {t: (per_type[t], n) for t, n in SPLITS[split].min_per_type.items() if per_type[t] < n}
    assert not short, f"type: (have, need) {short}"
    swedish = sum(r["language"] == "sv" for r in rows) / len(rows)
    assert 0.6 <= swedish <= 0.75, f"share of Swedish questions {swedish:.2f}, want about two thirds"


def test_answerable_and_unanswerable_rows_are_consistent(rows):
    for row in rows:
        if row["type"] == "unanswerable":
            assert not row["sources"] and not row["must_include"], row["id"]
        else:
            assert row["sources"] and row["must_include"], row["id"]
        assert bool(row["history"]) == (row["type"] == "conversational_followup"), row["id"]


def test_every_quote_is_verbatim_in_its_corpus_file(rows, corpus):
    problems = []
    for row in rows:
        for source in row["sources"]:
            quote = collapse(source["quote"])
            words = len(quote.split())
            if source["file"] not in corpus:
                problems.append(f"{row['id']}: no corpus file {source['file']}")
            elif quote not in corpus[source["file"]]:
                problems.append(f"{row['id']}: quote not in {source['file']}: {quote[:70]}")
            if not 8 <= words <= 40:
                problems.append(f"{row['id']}: quote has {words} words, want 8-40")
    assert not problems, "\n".join(problems)


def test_every_must_include_is_in_the_reference_answer(rows):
    problems = {r["id"]: missing_terms(r["answer"], r["must_include"]) for r in rows}
    assert not {k: v for k, v in problems.items() if v}


def words(text: str) -> set[str]:
    return set(norm_words(text))


def test_test_questions_are_not_dev_questions_reworded():
    """Held-out means new: no test question shares most of its words with a dev question."""
    dev = [words(" ".join([*r["history"], r["question"]])) for r in read_rows("dev")]
    close = []
    for row in read_rows("test"):
        mine = words(" ".join([*row["history"], row["question"]]))
        overlap = max(len(mine & other) / len(mine | other) for other in dev)
        if overlap >= 0.65:
            close.append(f"{row['id']} ({overlap:.2f}): {row['question']}")
    assert not close, "\n".join(close)


def test_load_gold_reads_the_file_and_honours_limit():
    questions = load_gold(GOLD, limit=5)
    assert [q.id for q in questions] == ["q001", "q002", "q003", "q004", "q005"]
    assert all(isinstance(s, GoldSource) for q in questions for s in q.sources)


# -- normalisation and matching ---------------------------------------------------------------------

def test_norm_words_joins_digit_groups_and_folds_case_and_width():
    assert norm_words("118 337 kr") == norm_words("118,337 kr") == norm_words("118337 KR") == ["118337", "kr"]
    assert norm_words("19 543 661") == ["19543661"]
    assert norm_words("１５２ Kommuner") == ["152", "kommuner"]  # full-width digits (NFKC)
    assert norm_words("7,5 miljoner") == ["7", "5", "miljoner"] == norm_words("7.5 Miljoner")
    assert norm_words("ÅRSSTÄMMAN, § 12!") == ["årsstämman", "12"]


def test_covers_needs_eighty_percent_of_the_quote_words():
    chunk = "Idag samverkar 44 kommuner kring tjänsten Provisum."
    assert covers(chunk, "samverkar 44 kommuner kring tjänsten")  # 5 of 5
    assert covers(chunk, "samverkar 44 kommuner kring nämnden")  # 4 of 5
    assert not covers(chunk, "samverkar 45 kommuner kring nämnden")  # 3 of 5
    assert not covers(chunk, "")
    assert covers("vinst 118 337 kr", "vinst 118,337 kr")


def test_contains_all_matches_word_sequences_after_normalisation():
    assert contains_all("Provisums förvaltningsråd har 44 kommuner.", ["Provisum", "44"])
    assert contains_all("Nya: Upplands-Väsby och Boden", ["Upplands Väsby"])
    assert contains_all("Vinsten blev 118,337 kr", ["118 337"])
    assert not contains_all("Vinsten blev 118 kr", ["118 337"])
    assert not contains_all("Väsby Upplands", ["Upplands Väsby"])
    assert contains_all("anything", [])
    assert missing_terms("Egil och UKA", ["Egil", "Inclubit", "UKA"]) == ["Inclubit"]


def test_numbers_in_must_include_match_whole_numbers_only():
    assert missing_terms("Sambruk bildades 1995.", ["95"]) == ["95"]
    assert missing_terms("950 kommuner", ["95"]) == ["95"]
    assert missing_terms("Budgeten 2026 är 19 543 661 kr.", ["543 661", "19 543"]) == ["543 661", "19 543"]
    assert missing_terms("Vid utgången av 2011 hade Sambruk 95 medlemmar.", ["95"]) == []
    # a citation marker is no figure of the answer
    assert missing_terms("Budgeten räknas upp enligt AKI. [2]", ["2%"]) == ["2%"]
    assert missing_terms("Uppräkning med 2% enligt samverkansavtalet. [1]", ["2%"]) == []
    assert missing_terms("Totalt 7,5 miljoner invånare, 2,5 anställda", ["7,5", "2,5", "5"]) == []


def test_figures_match_with_any_thousands_separator():
    for answer in ("19 543 661 kr", "19\u00a0543\u00a0661 kr", "19\u202f543\u202f661 kr", "19,543,661 kr",
                   "19543661 kr"):
        assert missing_terms(answer, ["19 543 661"]) == [], repr(answer)
    assert missing_terms("19 543 661", ["19\u00a0543\u00a0661"]) == []


def test_a_year_before_a_count_is_not_read_as_one_figure():
    answer = "vid utgången av 2021 109 medlemmar och i november 2025 158 medlemmar"
    assert term_words(answer)[3:5] == ["2021", "109"]
    assert missing_terms(answer, ["109", "158", "2025"]) == []


def test_must_include_ignores_case_width_and_accents():
    assert missing_terms("IDE, SONDERA OCH BESLUTA", ["idé", "sondera", "besluta"]) == []
    assert missing_terms("Älvsbyn och Övertorneå", ["alvsbyn", "ÖVERTORNEÅ"]) == []
    assert missing_terms("ＵＫＡ", ["UKA"]) == []


def test_only_a_long_enough_last_word_matches_the_start_of_an_answer_word():
    assert missing_terms("genom Hamburgundantaget och UKAA", ["Hamburg", "UKA"]) == []
    assert missing_terms("Västra Götalands Regionen", ["Västra Götaland"]) == []
    assert missing_terms("Västras Götaland", ["Västra Götaland"]) == ["Västra Götaland"]
    assert missing_terms("Aider Group och HR-chefer", ["AI", "HR"]) == ["AI"]  # short words match whole
    assert missing_terms("Sambruk", ["Sambruks"]) == ["Sambruks"]  # the answer word must be the longer one
    assert missing_terms("anything", ["–"]) == ["–"]  # a term with no words is never found


def test_markers_and_citation_resolution():
    text = "Sambruk har 152 kommuner [1]. Se även [2, 3] och [2]."
    assert marker_numbers(text) == [1, 2, 3, 2]
    assert citations_resolve(text, {1, 2, 3})
    assert not citations_resolve(text, {1, 2})
    assert citations_resolve("Inga markörer här.", set())


def test_first_hit_rank_requires_the_quote_in_the_same_file():
    sources = [GoldSource("a.txt", "Idag samverkar 44 kommuner kring tjänsten")]
    ranked = [
        Evidence("b.txt", "Idag samverkar 44 kommuner kring tjänsten"),
        Evidence("a.txt", "något helt annat"),
        Evidence("a.txt", "Provisum: idag samverkar 44 kommuner kring tjänsten."),
    ]
    assert first_hit_rank(ranked, sources) == 3
    assert first_hit_rank(ranked[:2], sources) is None


# -- metrics ----------------------------------------------------------------------------------------

def outcome(id: str, *, answerable=True, rank=None, refused=False, missing=(), valid=True, supported=False,
            latency=100.0, type="factoid", language="sv", chars=100) -> Outcome:
    return Outcome(id=id, type=type, language=language, answerable=answerable, rank=rank, refused=refused,
                   missing=tuple(missing), citations_valid=valid, citation_supported=supported,
                   latency_ms=latency, answer_chars=chars)


def test_summarize_on_hand_made_outcomes():
    outcomes = [
        outcome("a", rank=1, supported=True, latency=100, chars=120),
        outcome("b", rank=3, missing=("44",), latency=200, chars=900),
        outcome("c", rank=None, refused=True, latency=300, chars=5000),
        outcome("d", answerable=False, refused=True, type="unanswerable", latency=400, chars=40),
        outcome("e", answerable=False, refused=False, valid=False, type="unanswerable", latency=500,
                chars=301),
    ]
    m = summarize(outcomes)
    assert list(m) == list(METRIC_KEYS)
    assert m["retrieval_hit_at_1"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["retrieval_hit_at_5"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["retrieval_mrr"] == pytest.approx((1 + 1 / 3) / 3, abs=1e-4)
    assert m["answer_accuracy"] == pytest.approx(1 / 3, abs=1e-4)  # b misses a term, c refused
    assert m["refusal_precision"] == 0.5  # c and d refused, only d unanswerable
    assert m["refusal_recall"] == 0.5  # d refused, e answered
    assert m["citation_valid_rate"] == pytest.approx(2 / 3, abs=1e-4)  # answered: a, b, e
    assert m["citation_support_rate"] == 0.5  # answered answerable: a, b
    assert m["answer_chars_p50"] == 301  # median of the answered a, b, e; refusals don't count
    assert m["latency_p50_ms"] == 300.0
    assert m["latency_p95_ms"] == 480.0
    assert m["questions"] == 5


def test_summarize_leaves_metrics_without_denominator_undefined():
    m = summarize([outcome("a", rank=2, supported=True)])
    assert m["refusal_precision"] is None and m["refusal_recall"] is None
    assert summarize([outcome("r", refused=True)])["answer_chars_p50"] is None
    assert m["retrieval_hit_at_5"] == 1.0 and m["retrieval_hit_at_1"] == 0.0


def test_percentile_interpolates_linearly():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([], 50) is None


def test_check_thresholds_lower_bounds_upper_bound_latency_and_nulls():
    metrics = {"retrieval_hit_at_5": 0.8, "answer_accuracy": 0.5, "latency_p95_ms": 900.0,
               "refusal_recall": None}
    thresholds = {"retrieval_hit_at_5": 0.9, "answer_accuracy": 0.5, "latency_p95_ms": 800,
                  "refusal_recall": 0.5, "citation_valid_rate": None}
    failures = check_thresholds(metrics, thresholds)
    assert len(failures) == 3
    assert failures[0].startswith("retrieval_hit_at_5") and "below" in failures[0]
    assert failures[1].startswith("latency_p95_ms") and "above" in failures[1]
    assert failures[2].startswith("refusal_recall") and "no value" in failures[2]
    assert check_thresholds(metrics, {k: None for k in METRIC_KEYS}) == []
    assert check_thresholds({"answer_chars_p50": 520}, {"answer_chars_p50": 500}) == [
        "answer_chars_p50: 520 above the maximum 500"]
    assert check_thresholds({"answer_chars_p50": 480}, {"answer_chars_p50": 500}) == []


# -- the runner, with a stand-in assistant ------------------------------------------------------------

FILE = "sambruk-verksamhetsplan-2026.txt"
PROVISUM = ("Idag samverkar 44 kommuner kring tjänsten, men ett nytt avtal är på väg in med "
            "ytterligare 6 kommuner.")


def passage(text: str, start: int, file: str = FILE) -> Passage:
    return Passage(doc_id="plan-2026", file=file, title="Verksamhetsplan 2026", chunk_ids=["c"],
                   section="Provisum", start=start, end=start + len(text), text=text, score=0.5)


def citation(n: int, quote: str, start: int, end: int) -> Citation:
    return Citation(n=n, doc_id="plan-2026", file=FILE, title="Verksamhetsplan 2026",
                    doc_type="verksamhetsplan", date="2025", section="Provisum", page=None, quote=quote,
                    score=0.5, start=start, end=end)


class StandInAssistant:
    """Answers the Provisum follow-up from its second passage and refuses everything else."""

    def __init__(self):
        self.requests: list[AskRequest] = []

    def retrieve(self, request: AskRequest) -> list[Passage]:
        self.requests.append(request)
        return [passage("Biblix är en app för barn.", 0), passage("Provisum. " + PROVISUM, 1000)]

    def ask(self, request: AskRequest, passages: list[Passage] | None = None) -> Answer:
        if "använder" in request.question:
            return Answer(text="44 kommuner [1].", citations=[citation(1, "44 kommuner", 1020, 1031)],
                          backend="extractive", language="sv")
        return Answer(text="Det framgår inte.", refused=True, backend="extractive", language="sv")


FOLLOW_UP = GoldQuestion(
    id="q900", question="Hur många kommuner använder det?", language="sv", type="conversational_followup",
    answer="44 kommuner.", must_include=("44",), sources=(GoldSource(FILE, PROVISUM),),
    history=("Vad är Provisum?",),
)
UNANSWERABLE = GoldQuestion(
    id="q901", question="Vad kostar Inclubit?", language="sv", type="unanswerable", answer="Framgår inte.",
    must_include=(), sources=(), history=(),
)


def test_to_request_turns_history_into_user_messages():
    request = to_request(FOLLOW_UP, "local")
    assert request.backend == "local"
    assert [(m.role, m.content) for m in request.history] == [("user", "Vad är Provisum?")]


def test_cited_evidence_includes_overlapping_passages_of_the_cited_file_only():
    passages = [passage("Biblix.", 0), passage(PROVISUM, 1000), passage(PROVISUM, 1000, file="other.txt")]
    answer = Answer(text="x [1]", citations=[citation(1, "44 kommuner", 1010, 1020)], backend="extractive",
                    language="sv")
    assert cited_evidence(answer, passages) == [Evidence(FILE, "44 kommuner"), Evidence(FILE, PROVISUM)]


def test_evaluate_scores_retrieval_answer_and_citations():
    assistant = StandInAssistant()
    result = evaluate(assistant, FOLLOW_UP, None)
    o = result.outcome
    assert (o.rank, o.refused, o.missing) == (2, False, ())
    assert o.citations_valid and o.citation_supported
    assert o.correct and o.latency_ms >= 0
    assert assistant.requests[0].history[0].content == "Vad är Provisum?"
    refused = evaluate(assistant, UNANSWERABLE, None).outcome
    assert refused.correct and refused.rank is None


def test_run_all_and_write_outputs(tmp_path):
    from rich.console import Console

    results = run_all(StandInAssistant(), [FOLLOW_UP, UNANSWERABLE], None, Console(stderr=True, quiet=True))
    metrics = write_outputs(tmp_path, results, "stand-in")
    assert set(metrics) == set(METRIC_KEYS) | {"by_type", "by_language"}
    assert metrics["answer_chars_p50"] == len("44 kommuner [1].")  # the refusal is not counted
    assert metrics["by_language"]["sv"]["answer_accuracy"] == 1.0
    assert metrics["answer_accuracy"] == 1.0 and metrics["refusal_recall"] == 1.0
    assert set(metrics["by_type"]) == {"conversational_followup", "unanswerable"}
    assert json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8")) == metrics
    assert (tmp_path / "chart.png").stat().st_size > 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## By type" in report and "## By language" in report and "## Failed questions (0)" in report
