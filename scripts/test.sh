#!/usr/bin/env bash
# `npm test`: set up what the tests need, then run every test once.
# Uses the machine's Postgres and Redis when they answer on their standard ports,
# PGlite and a private redis-server otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test

if [ -z "${DATABASE_URL:-}" ] && command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  export TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/test"
fi
if [ -z "${REDIS_URL:-}" ] && command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; then
  export REDIS_URL="redis://127.0.0.1:6379"
fi
# Static checks first: types (packages, services, tests, then the Svelte app) and lint.
node_modules/.bin/node node_modules/typescript/bin/tsc -p tsconfig.json --noEmit
(cd app && ../node_modules/.bin/node ../node_modules/@sveltejs/kit/svelte-kit.js sync && ../node_modules/.bin/node ../node_modules/svelte-check/bin/svelte-check --tsconfig ./tsconfig.json --fail-on-warnings --output human)
node_modules/.bin/node node_modules/eslint/bin/eslint.js .
# Who may import whom (ARCHITECTURE.md): a broken rule names the file, the import and the rule.
node_modules/.bin/node scripts/check-deps.ts

report="$(mktemp -d)/vitest.json"
set +e
node_modules/.bin/node node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
set -e
# One plain closing line that any CI reader understands.
if [ -f "$report" ]; then
  node_modules/.bin/node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    // A file whose setup failed fails no test but skips them all: it is counted apart, never hidden.
    const brokenFiles = (r.testResults ?? []).filter((f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed")).length;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : "") + (brokenFiles ? `, ${brokenFiles} test file(s) failed to run` : ""));
  ' "$report"
fi
exit $status
