#!/usr/bin/env bash
# The studio's browser test: PyPI's playwright driving Debian's Chromium. Playwright's own `playwright install`
# downloads browsers from outside the package registries and cannot work here, so the system's Chromium is
# installed with apt-get and launched through executable_path (tests/integration/test_studio_browser.py).
# Idempotent: a second run checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
STEP_PREFIX=browser
STEP_LOG="$VENV/browser-setup.log"
source scripts/steps.sh

if ! command -v chromium >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    step "Chromium (apt-get install chromium)" bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    step "Chromium (sudo apt-get install chromium)" bash -c "sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"
  else
    echo "browser: Chromium is missing and this user cannot install system packages; run as root: apt-get install chromium" >&2
    exit 1
  fi
fi
"$VENV/bin/python" -c "import playwright" 2>/dev/null \
  || step "playwright (the Python package; it drives the system's Chromium)" \
       "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[studio-test]'
echo "browser: ready ($(chromium --version 2>/dev/null | head -1))"
