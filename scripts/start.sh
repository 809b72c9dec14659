#!/usr/bin/env bash
# `npm start`: set up what is missing, then run app + media-server + workers as one process tree.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh runtime
exec node_modules/.bin/node scripts/run-all.ts "$@"
