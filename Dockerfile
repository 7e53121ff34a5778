# syntax=docker/dockerfile:1
# rollback-receiver: multi-stage, non-root, production dependencies only.
#
#   docker build -t rollback-receiver:0.1.0 .
#   docker run -p 9095:9095 rollback-receiver:0.1.0          # dry-run, state in the volume
#
# Stages: build (all deps, tsc -> dist/), deps (production deps only: npm ci --omit=dev,
# with a toolchain in case better-sqlite3's native module has to be compiled), runtime
# (node + node_modules from deps + dist/ from build; no compiler, no devDependencies).

ARG NODE_IMAGE=node:20-bookworm-slim

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
