# syntax=docker/dockerfile:1
# Visit Vault: built once in the build stage (typechecked, compiled to dist/ with the console bundled and the
# migrations beside it), then run as `node dist/server.js` on the production dependencies only: no tsx, no esbuild.
# Node 22 LTS, pinned by version; bump it deliberately (and the engines field with it).

FROM node:22.23.5-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json biome.json ./
COPY src ./src
COPY console ./console
COPY scripts ./scripts
COPY test ./test
RUN npm run typecheck && npm run build

FROM node:22.23.5-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:22.23.5-bookworm-slim
# Debian's ffmpeg for transcoding (ffmpeg-static's download is not used in images); tini as PID 1, so that
# SIGTERM reaches node (which drains and closes the stores) and zombies are reaped.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system vault && useradd --system --gid vault --home-dir /app --shell /usr/sbin/nologin vault \
 && mkdir -p /data && chown vault:vault /data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
ENV NODE_ENV=production \
    PORT=8080 \
    VAULT_DATA_DIR=/data \
    FFMPEG_PATH=/usr/bin/ffmpeg
# The code and its dependencies stay root's and read-only to the vault; only /data is its own.
USER vault
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
# The administration CLI in the image: docker compose exec vault node dist/cli/main.js --help
CMD ["node", "dist/server.js"]
