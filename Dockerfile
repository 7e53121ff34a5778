# syntax=docker/dockerfile:1
# rollback-receiver: multi-stage, non-root, production dependencies only.
#
#   docker build -t rollback-receiver:0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#   docker run -p 9095:9095 rollback-receiver:0.1.0          # dry-run, state in the volume
#
# Stages: build (all deps, tsc -> dist/), deps (production deps only: npm ci --omit=dev,
# with a toolchain in case better-sqlite3's native module has to be compiled), runtime
# (node + node_modules from deps + dist/ from build; no compiler, no devDependencies).

# The base image of every stage, pinned by digest: a rebuild gets the same bytes, and a
# moved or replaced tag cannot change the image unnoticed (bump it on purpose). The default
# is Node.js 20, the version the tests run on. Node 20 reached end of life in April 2026:
# for production, build on a supported line, e.g.
#   docker build --build-arg NODE_IMAGE=node:22-bookworm-slim@sha256:<digest> .
# (`docker buildx imagetools inspect node:22-bookworm-slim` prints the current digest).
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0
# The receiver's version (package.json) and the commit, for the OCI labels.
ARG VERSION=0.1.0
ARG REVISION=unknown

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 is a native module: its install script downloads a prebuilt binary or
# compiles one with node-gyp (python3, make, g++).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Production dependencies only; install scripts run (better-sqlite3 is allowed one in package.json allowScripts).
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ARG NODE_IMAGE
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.title="rollback-receiver" \
      org.opencontainers.image.description="Turns Prometheus Alertmanager alerts into safe, verified Kubernetes rollbacks" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
ENV NODE_ENV=production \
    PORT=9095 \
    ROLLBACK_STATE_DIR=/var/lib/rollback-receiver
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json: the version the receiver reports (read from ../package.json next to dist/) and "type": "module".
COPY --from=build /app/package.json /app/package-lock.json ./
# The state directory (SQLite), owned by the runtime user; mount a volume there.
RUN mkdir -p /var/lib/rollback-receiver \
 && chown 1000:1000 /var/lib/rollback-receiver \
 && chmod 0750 /var/lib/rollback-receiver
VOLUME ["/var/lib/rollback-receiver"]
# uid/gid 1000: the image's unprivileged "node" user, numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 9095
# No curl in the slim image: node's own fetch checks liveness.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 9095) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
