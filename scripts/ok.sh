#!/bin/sh
# The one gate before a commit: formatting, lint, type check, then the whole test suite.
set -eu
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
deno fmt --check
deno lint
deno check mod.ts cli.ts lib/ sim/ scripts/ tests/ bench/ examples/
bash scripts/test.sh
