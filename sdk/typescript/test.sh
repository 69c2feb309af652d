#!/usr/bin/env bash
# Builds the TypeScript SDK and runs its tests against a real `berth up`
# of a freshly built bin/berth: `make sdk-ts-test` runs this.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

command -v npm >/dev/null 2>&1 || { echo "npm is missing: run scripts/ensure-deps.sh (Debian's nodejs and npm)" >&2; exit 1; }

(cd "$root" && ${GO:-go} build -o bin/berth ./cmd/berth)
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
npm run --silent build:test
BERTH_BIN="$root/bin/berth" npm run --silent test
