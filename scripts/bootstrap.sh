#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install the project into it.
#
# The install comes only from the project's own files: pyproject.toml for what we need, and
# requirements.lock for the exact versions that were tested together. The environment is
# reused as long as neither file changed (a stamp records their hash).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON=$candidate; break; fi
  done
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
  echo "bootstrap: Python 3.11 is required ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi

# WeasyPrint renders with Pango; install it from Debian's packages when a machine lacks it.
if ! ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so'; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing Pango and fonts for WeasyPrint (apt-get)"
    apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null
  else
    echo "bootstrap: WARNING: libpango-1.0 not found; PDF rendering will fail (install libpango-1.0-0 libpangoft2-1.0-0)" >&2
  fi
fi

# The tests open the finance review page in headless Chromium (Debian's package).
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing Chromium for the review-report test (apt-get, about a minute)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "bootstrap: WARNING: chromium not found; tests/test_review_report.py needs it (apt-get install chromium)" >&2
  fi
fi

stamp=.venv/.installed
want=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/billing ]; then
  exit 0
fi

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi
echo "bootstrap: installing the project and its locked dependencies into .venv (about a minute)"
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet -c requirements.lock -e ".[test]"
echo "$want" > "$stamp"
