#!/usr/bin/env bash
# Side-by-side benchmark of pp-secrets and ProcessPype 2.1.3 (see BENCHMARKS.md).
# Installs ProcessPype (with boto3) and moto into bench/.venv with Python 3.13 (pyenv), builds the
# release binary, then runs bench/compare.py (core) and bench/aws_compare.py
# (AWS preload against moto), which print Markdown tables.
# bench/wasm_compare.py measures the Wasm backend and apps (no Python
# counterpart); bench/etcd_compare.py the etcd provider against etcdctl.
# bench/refresh.rs (cargo bench --bench refresh) measures rotation: cached
# get with refresh off and on, and one refresh of 1,000 AWS secrets on moto
# against one call per secret.
# bench/provider_languages.py (mode languages, not part of all) compares a
# Rust, a Python and a JavaScript provider; it needs the Python and
# JavaScript components that bash tests/run.sh builds.
# Usage: bench/run.sh [core|aws|wasm|etcd|refresh|languages|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

PY313="${PY313:-$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3}"
if [ ! -x bench/.venv/bin/python ]; then
  "$PY313" -m venv bench/.venv
fi
bench/.venv/bin/python -c 'import processpype, boto3, moto' 2>/dev/null \
  || bench/.venv/bin/pip install --quiet 'processpype[aws]==2.1.3' 'moto[server]==5.2.5'

refresh() {
  PP_BENCH_MOTO="$PWD/bench/.venv/bin/moto_server" cargo bench --quiet -p pp-secrets --bench refresh
}
if [ "${1:-all}" = refresh ]; then
  refresh
  exit
fi

cargo build --release --quiet -p pp-secrets-cli
rustup target add wasm32-wasip2 > /dev/null
cargo build --release --quiet --target wasm32-wasip2 -p pp-secrets-dir-provider -p pp-secrets-hostile-guest \
  -p pp-secrets-app-probe -p pp-secrets-etcd-provider -p pp-secrets-dir-provider-v0-1
case "${1:-all}" in
  core) bench/.venv/bin/python bench/compare.py target/release/pp-secrets ;;
  aws) bench/.venv/bin/python bench/aws_compare.py target/release/pp-secrets bench/.venv/bin/moto_server ;;
  wasm) bench/.venv/bin/python bench/wasm_compare.py target/release/pp-secrets ;;
  etcd) bench/.venv/bin/python bench/etcd_compare.py target/release/pp-secrets ;;
  languages) bench/.venv/bin/python bench/provider_languages.py target/release/pp-secrets ;;
  all)
    bench/.venv/bin/python bench/compare.py target/release/pp-secrets
    echo
    bench/.venv/bin/python bench/aws_compare.py target/release/pp-secrets bench/.venv/bin/moto_server
    echo
    bench/.venv/bin/python bench/wasm_compare.py target/release/pp-secrets
    echo
    bench/.venv/bin/python bench/etcd_compare.py target/release/pp-secrets
    echo
    refresh
    ;;
  *) echo "usage: bench/run.sh [core|aws|wasm|etcd|refresh|languages|all]" >&2; exit 2 ;;
esac
