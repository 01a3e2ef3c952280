# raftkv: tsx (a runtime dependency) runs the TypeScript sources as they are, so there is no build stage.
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so that this layer is rebuilt only when the lock file changes.
# classic-level ships prebuilt LevelDB binaries for linux x64 and arm64: no compiler needed.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src

# The base image's unprivileged `node` user (uid 1000) runs raftkv and owns the data directory.
RUN mkdir /data && chown node:node /data
USER node
VOLUME ["/data"]

# 7000: Raft peers and binary clients (the address in --members), 6379: Redis protocol (--resp),
# 8080: HTTP JSON API, /metrics and /v1/health (--http). Each is a flag, so these are conventions.
EXPOSE 7000 6379 8080

# No HEALTHCHECK: the HTTP port is whatever --http names, if anything; Kubernetes probes /v1/health instead.
ENTRYPOINT ["node", "bin/raftkv.js"]
CMD ["--help"]
