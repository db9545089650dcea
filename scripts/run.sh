#!/usr/bin/env bash
# One command: set up, ingest the corpus into the embedded Qdrant, serve the API and chat UI on 127.0.0.1.
# With SAMBRUK_BACKEND=local the packaged LLM is served too (llama.cpp on 127.0.0.1:8081).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python -m ingest
if [ "${SAMBRUK_BACKEND:-extractive}" = local ]; then
  .venv/bin/python -m assistant llm-server &
  llm_pid=$!
  trap 'kill $llm_pid 2>/dev/null' EXIT
fi
.venv/bin/python -m ui "$@"
