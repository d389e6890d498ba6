# syntax=docker/dockerfile:1
# Visit Vault: multi-stage build. The app runs from its TypeScript sources with tsx
# (a runtime dependency), so the build stage only installs and typechecks.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json vitest.config.ts ./
COPY src ./src
COPY console ./console
COPY scripts ./scripts
COPY test ./test
RUN npm run typecheck

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# Debian's ffmpeg for transcoding (ffmpeg-static's download is not used in images).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system vault && useradd --system --gid vault --home-dir /app --shell /usr/sbin/nologin vault \
 && mkdir -p /data && chown vault:vault /data
WORKDIR /app
COPY --from=deps --chown=vault:vault /app/node_modules ./node_modules
COPY --chown=vault:vault package.json tsconfig.json ./
COPY --chown=vault:vault src ./src
# The web console's sources: bundled in memory by esbuild (a runtime dependency) when the vault starts.
COPY --chown=vault:vault console ./console
ENV NODE_ENV=production \
    PORT=8080 \
    VAULT_DATA_DIR=/data \
    FFMPEG_PATH=/usr/bin/ffmpeg
USER vault
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "src/server.ts"]
