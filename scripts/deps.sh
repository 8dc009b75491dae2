#!/bin/sh
# Installs the npm dependencies (Deno, Bun, yaml, @types/node) into node_modules/ when they are missing
# or older than package-lock.json. Every deno task that runs code depends on this one.
set -e
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "labwire: installing npm dependencies (npm install)" >&2
  npm install --no-audit --no-fund --loglevel=error >&2
fi
