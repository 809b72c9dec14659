#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine: Debian packages, npm packages, the app build.
#   scripts/setup.sh runtime   what `npm start` needs
#   scripts/setup.sh test      what `npm test` needs (adds the browser and the SIP/audio peers)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-runtime}"

# gcc, libc6-dev and libssl-dev (OpenSSL headers, when Node ships none): the media plane's addon (scripts/build-native.sh, MEDIA_NATIVE).
runtime_pkgs=(redis-server espeak-ng sox pocketsphinx pocketsphinx-en-us ghostscript poppler-utils libtiff-tools python3-pil gcc libc6-dev libssl-dev)
# rtpengine-daemon: bench/relay-vs-rtpengine.ts (rtpengine run in the foreground by the bench itself; gcc above builds its generator).
test_pkgs=(chromium sip-tester baresip pocketsphinx-testdata unzip python3-yaml rtpengine-daemon)
# Packages whose Debian service must never be started on this machine: the benchmark runs them itself.
no_service_pkgs=(rtpengine-daemon)
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
    # Keep maintainer scripts from starting any service during the install (invoke-rc.d and
    # deb-systemd-invoke both obey policy-rc.d; exit 101 = action forbidden), unless one is in place.
    policy_added=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy_added=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ -n "$policy_added" ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
    # The package enables its service for the next boot: disable it (and mask the systemd unit), so
    # that only the benchmark ever runs rtpengine.
    if [ "$mode" = test ]; then
      for p in "${no_service_pkgs[@]}"; do
        if command -v systemctl >/dev/null; then
          systemctl disable --now "$p" >/dev/null 2>&1 || true
          systemctl mask "$p" >/dev/null 2>&1 || true
        fi
        command -v update-rc.d >/dev/null && { update-rc.d "$p" disable >/dev/null 2>&1 || true; }
      done
    fi
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

# The media plane's N-API addon (media-server/native), offline with gcc; rebuilt only when its source
# changed. The tests run the media plane on it and on dgram, so `npm test` needs it; `npm start`
# runs without it (MEDIA_NATIVE=off, or auto) when it cannot be built.
if ! bash scripts/build-native.sh; then
  [ "$mode" = test ] && { echo "setup: the media I/O addon did not build" >&2; exit 1; }
  echo "setup: the media I/O addon did not build; the media plane uses Node's dgram" >&2
fi
