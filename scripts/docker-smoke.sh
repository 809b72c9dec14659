#!/usr/bin/env bash
# Builds the image and checks that `docker compose up` gives a working product:
# the runtime tools are in the image, every service becomes healthy (the app's
# sign-in page, media-server's heartbeat, a job through the workers), the first
# admin's activation link is in the app's log, and the SIP edge answers an
# OPTIONS on port 5060 over UDP. Where no Docker engine answers (CI without Docker, this repository's
# sandbox), it says so and exits 0: the compose file is still checked by
# tests/product/docker-compose.test.ts.
# Uses host ports 3000, 5060, 5066 and the RTP range: stop anything using them first.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  echo "docker-smoke: skipped: no Docker engine answers here (docker info failed)"
  exit 0
fi
if ! docker compose version >/dev/null 2>&1; then
  echo "docker-smoke: skipped: the Docker Compose plugin is missing (docker compose version failed)"
  exit 0
fi

project="carillon-smoke-$$"
export PUBLIC_URL="${PUBLIC_URL:-http://127.0.0.1:3000}" SIP_PUBLIC_ADDRESS="${SIP_PUBLIC_ADDRESS:-127.0.0.1}"
compose() { docker compose -p "$project" "$@"; }
cleanup() { compose down -v --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT

compose config -q
compose build

echo "docker-smoke: runtime tools in the image"
compose run --rm --no-deps --entrypoint sh workers -c '
  set -e
  gs --version
  tiffcp 2>&1 | head -n 1
  pdfinfo -v 2>&1 | head -n 1
  python3 -c "import PIL; print(\"Pillow\", PIL.__version__)"
  espeak-ng --version
  sox --version
  setpriv --version'

echo "docker-smoke: starting the stack and waiting for every healthcheck"
compose up -d --wait --wait-timeout 240

echo "docker-smoke: first admin's activation link"
compose logs app | grep -E '/activate/[A-Za-z0-9_-]+'

echo "docker-smoke: SIP OPTIONS to the SIP edge, port 5060/udp"
compose exec -T media-server node -e '
  const s = require("node:dgram").createSocket("udp4");
  const msg = ["OPTIONS sip:" + process.env.SIP_PUBLIC_ADDRESS + " SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-smoke", "Max-Forwards: 70",
    "From: <sip:smoke@invalid>;tag=smoke", "To: <sip:" + process.env.SIP_PUBLIC_ADDRESS + ">", "Call-ID: docker-smoke", "CSeq: 1 OPTIONS", "Content-Length: 0", "", ""].join("\r\n");
  s.on("message", (m) => { console.log(String(m).split("\r\n")[0]); process.exit(0); });
  setTimeout(() => { console.error("no SIP answer"); process.exit(1); }, 5000);
  s.bind(5999, () => s.send(msg, 5060, "127.0.0.1"));'

echo "docker-smoke: ok"
