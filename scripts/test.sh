#!/usr/bin/env bash
# One command: set up (with test extras and Chromium for the browser test) and run the whole test suite,
# including the gold-set evaluation against the thresholds in eval/thresholds.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Debian chromium for the browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: chromium could not be installed; the browser test will fail"
  else
    echo "warning: /usr/bin/chromium missing and not root: install Debian's chromium for the browser test"
  fi
fi
exec .venv/bin/python -m pytest "$@"
