#!/usr/bin/env bash
# One command: set up, ingest the corpus into the embedded Qdrant, serve the API and chat UI on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python -m ingest
exec .venv/bin/python -m assistant serve "$@"
