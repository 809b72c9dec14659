# syntax=docker/dockerfile:1
# One image for the whole monorepo; docker-compose.yml picks the process each
# service runs (app, media-server, workers). There is no TypeScript build:
# Node 24 strips types at load time, so the sources themselves are shipped.
ARG NODE_IMAGE=node:24-bookworm-slim

# Only the npm manifests, so the npm ci layer below is reused until a
# dependency changes. Found with `find` rather than listed so that a new
# workspace can't be forgotten here (npm ci fails on a missing one).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name node_modules -prune -o \( -name package.json -o -name package-lock.json -o -name .npmrc \) -print \
  | xargs cp --parents -t /manifests

FROM ${NODE_IMAGE} AS deps
WORKDIR /srv/carillon
COPY --from=manifests /manifests ./
RUN npm ci

FROM deps AS build
COPY . .
# Builds the media plane's addon (media-server/native, issue 12) with the
# `node` npm package's headers, OpenSSL's included, so the runtime image needs
# no compiler; then the SvelteKit app into app/build; then drops the dev
# tooling (vite, typescript, vitest, the `node` npm package...) the running
# services don't use.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/* \
 && bash scripts/build-native.sh \
 && npm run build \
 && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
# Only what the services call at runtime (the runtime list of scripts/setup.sh):
# text-to-speech for prompts, audio conversion, offline speech recognition for
# voicemail transcription, and fax rendering (ghostscript, libtiff-tools,
# poppler-utils, python3-pil). util-linux (setpriv) is part of the base image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng sox pocketsphinx pocketsphinx-en-us ghostscript poppler-utils libtiff-tools python3-pil \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    DATA_DIR=/srv/carillon/data
WORKDIR /srv/carillon
# Code stays root-owned (read-only to the service user); only data/ is writable.
COPY --from=build /srv/carillon ./
# 0700: the database, recordings, faxes and secrets are the service user's only.
RUN mkdir -p data && chown node:node data && chmod 700 data
USER node
# 3000 web app; 5060 SIP over UDP/TCP; 5066 SIP over WebSocket; 20000-20099 RTP
# (docker-compose.yml's RTP_PORT_MIN..RTP_PORT_MAX, published one to one).
EXPOSE 3000 5060/udp 5060/tcp 5066/tcp 20000-20099/udp
# `node` here is Node 24 (the base image). Each service's command in
# docker-compose.yml overrides this default.
CMD ["node", "app/server.ts"]
