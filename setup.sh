#!/usr/bin/env bash
# Sets up Dosar on a fresh Debian machine (Python 3.11, root) and starts the demo
# town hall. Idempotent: run it again after pulling changes.
#   bash setup.sh              install everything, then serve the demo
#   bash setup.sh --no-serve   install everything and load the demo, do not serve
set -euo pipefail
cd "$(dirname "$0")"
SERVE=1
[ "${1:-}" = "--no-serve" ] && SERVE=0

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)        # browser tests
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)  # ș ț in PDFs
command -v node >/dev/null || need_apt+=(nodejs)              # front-end assets
command -v npm >/dev/null || need_apt+=(npm)
command -v tesseract >/dev/null || need_apt+=(tesseract-ocr)  # OCR of scans
[ -f /usr/share/tesseract-ocr/5/tessdata/ron.traineddata ] || need_apt+=(tesseract-ocr-ron tesseract-ocr-eng)
command -v mariadb >/dev/null || need_apt+=(mariadb-client)   # CI's MariaDB check
command -v slapd >/dev/null || need_apt+=(slapd ldap-utils)  # directory login tests
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> Debian packages: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "==> Python packages (pinned in setup.cfg) into .venv"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

echo "==> Interface translations (webapp/translations, compiled .mo not in git)"
.venv/bin/pybabel -q compile -d webapp/translations

echo "==> Front-end assets (bpmn-js, pinned in webapp/frontend/package-lock.json)"
(cd webapp/frontend && npm ci --no-audit --no-fund --loglevel=error && npm run -s build)

echo "==> Database and demo town hall"
.venv/bin/dosar demo --no-serve
if [ "$SERVE" = 1 ]; then
  exec .venv/bin/dosar serve --host 127.0.0.1 --port "${DOSAR_PORT:-8000}"
fi
