#!/usr/bin/env bash
# Builds the media plane's N-API addon (media-server/native, issue 12: recvmmsg/sendmmsg packet I/O and
# the in-place SRTP transform) with Debian's gcc, offline, from the project's own files: the headers
# are those of the Node that runs it (the `node` devDependency ships them, OpenSSL's included), else
# the Debian package's (/usr/include/node, with libssl-dev's OpenSSL headers). N-API is ABI-stable,
# so either works. The addon is not linked with libcrypto: its OpenSSL symbols resolve to the copy
# inside the node binary that loads it (Node exports them for addons), so one OpenSSL runs. Idempotent: rebuilds only when the source or this script is
# newer than the addon. MEDIA_NATIVE (packages/config) chooses whether the media plane uses it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/media-server/native"
out=build/media_io.node
headers="${NODE_HEADERS:-}"
if [ -z "$headers" ]; then
  for dir in "$root"/node_modules/node/node_modules/node-linux-*/include/node /usr/include/node; do
    if [ -f "$dir/node_api.h" ] && [ -f "$dir/uv.h" ]; then headers="$dir"; break; fi
  done
fi
if [ -f "$out" ] && [ "$out" -nt media_io.c ] && [ "$out" -nt "$0" ]; then exit 0; fi
if [ -z "$headers" ]; then
  echo "build-native: no Node headers (node_api.h, uv.h) found; install Debian's libnode-dev or run npm ci" >&2
  exit 1
fi
mkdir -p build
gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
  -I"$headers" -o "$out.tmp" media_io.c
mv "$out.tmp" "$out"
echo "build-native: built media-server/native/$out (headers: $headers)"
