#!/usr/bin/env bash
# Set up .venv with pinned dependencies (CPU-only torch first) and fetch + verify the model weights.
# Usage: scripts/bootstrap.sh [extras]   e.g. scripts/bootstrap.sh test
# Outside this workplace, point pip at PyTorch's CPU wheels:
#   SAMBRUK_TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu scripts/bootstrap.sh
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)-${extras:-base}"
if [ ! -f "$stamp" ]; then
  echo "==> installing dependencies (pinned by constraints.txt)"
  torch_index=()
  [ -n "${SAMBRUK_TORCH_INDEX_URL:-}" ] && torch_index=(--extra-index-url "$SAMBRUK_TORCH_INDEX_URL")
  # torch first and alone: nothing may resolve the CUDA build behind our back.
  # (The grep drops pip's noise about this workplace's file:// extra indexes; pip's exit code still counts.)
  .venv/bin/pip install -q "${torch_index[@]}" -c constraints.txt "torch==2.13.0+cpu" 2> >(grep -v "is ignored: it is neither" >&2)
  .venv/bin/pip install -q "${torch_index[@]}" -c constraints.txt -e ".${extras:+[$extras]}" 2> >(grep -v "is ignored: it is neither" >&2)
  .venv/bin/python -c "import torch, sys; sys.exit('CUDA torch was installed' if torch.version.cuda else 0)"
  touch "$stamp"
fi
.venv/bin/python -m assistant fetch-models ${SAMBRUK_FETCH_FLAGS:-}
