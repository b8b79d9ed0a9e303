#!/usr/bin/env bash
# Side-by-side benchmark of pp-secrets and ProcessPype 2.1.3 (see BENCHMARKS.md).
# Installs ProcessPype into bench/.venv with Python 3.13 (pyenv), builds the
# release binary, then runs bench/compare.py, which prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."

PY313="${PY313:-$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3}"
if [ ! -x bench/.venv/bin/python ]; then
  "$PY313" -m venv bench/.venv
fi
bench/.venv/bin/python -c 'import processpype' 2>/dev/null \
  || bench/.venv/bin/pip install --quiet 'processpype==2.1.3'

cargo build --release --quiet -p pp-secrets --bin pp-secrets
bench/.venv/bin/python bench/compare.py target/release/pp-secrets
