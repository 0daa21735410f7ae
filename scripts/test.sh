#!/usr/bin/env bash
# README command 2: sets hako up (scripts/setup.sh) and runs the whole test suite, as root:
# unit, integration and compatibility tests (`npm test`: scripts/run-tests.mjs over dist/test/).
# Extra arguments narrow the run: `bash scripts/test.sh unit`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
echo "test: node scripts/run-tests.mjs ${*:-unit integration compat}"
# setup.sh has just built dist/, so the runner is called directly rather than through `npm test`
# (which would build a second time).
exec node scripts/run-tests.mjs "$@"
