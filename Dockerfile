# syntax=docker/dockerfile:1
# livepath image: one image for every role (origin, edge, tracker, peers, probe); the role is the
# first argument, e.g. `docker run IMAGE edge --scenario ...`. Built from the repo root:
#   docker build -t livepath:dev .

# --- build: compile TypeScript, then keep only production dependencies ---------------------------
# Pinned to a patch release so a rebuild gets the same toolchain; bump deliberately.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so editing sources does not refetch them. --ignore-scripts: `prepare` would
# run tsc before the sources are here; the build runs below instead.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# scenarios/ and grafana/ are created if absent so the runtime COPY never fails on a fresh tree.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && mkdir -p scenarios grafana

# --- ffmpeg: the origin's real-video ingest (RTMP pull, file/lavfi encode) ------------------------
# Static PIE binaries with no library dependencies, so they run on the distroless runtime below.
FROM mwader/static-ffmpeg:7.1.1 AS ffmpeg

# --- runtime: Node only (no shell, no package manager), non-root --------------------------------
# distroless nodejs20 ships the same major as the build stage; :nonroot runs as uid 65532.
FROM gcr.io/distroless/nodejs20-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production
# What the package ships at run time (package.json "files"), minus charts/ and containernet/,
# which are used from outside a container (helm, a Mininet host). Owned by root: read-only to the
# service user.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
COPY --from=build /app/scenarios ./scenarios
COPY --from=build /app/grafana ./grafana
COPY --from=build /app/ingest ./ingest
# On PATH, where the origin looks for it: an rtmp or file source works in the chart.
COPY --from=ffmpeg /ffmpeg /usr/local/bin/ffmpeg
USER 65532:65532
# 7000 relay/gRPC (origin, edge, peers), 7001 tracker, 9464 Prometheus /metrics.
EXPOSE 7000 7001 9464
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/livepath.js"]
CMD ["--help"]
