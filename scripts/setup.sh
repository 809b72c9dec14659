#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine: Debian packages, npm packages, the app build.
#   scripts/setup.sh runtime   what `npm start` needs
#   scripts/setup.sh test      what `npm test` needs (adds the browser and the SIP/audio peers)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-runtime}"

runtime_pkgs=(redis-server espeak-ng sox pocketsphinx pocketsphinx-en-us ghostscript poppler-utils libtiff-tools python3-pil)
test_pkgs=(chromium sip-tester baresip pocketsphinx-testdata unzip python3-yaml)
pkgs=("${runtime_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (${missing[*]}); install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# npm ci when node_modules is absent or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Build the app when its sources changed since the last build.
stamp=app/build/handler.js
if [ ! -f "$stamp" ] || [ -n "$(find app/src app/vite.config.ts app/package.json packages -newer "$stamp" -type f -print -quit)" ]; then
  echo "setup: building the app"
  npm run build --silent >/dev/null
fi
