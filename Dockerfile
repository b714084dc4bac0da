# miprobe agent image. Multi-stage: build with dev dependencies, run with
# production dependencies only, as a non-root user, on a read-only root
# file system (nothing is written at run time; logs go to stdout).
#   docker build -t miprobe .
#   docker run --read-only -p 9433:9433 -v $PWD/agent.yaml:/etc/miprobe/agent.yaml:ro miprobe
# Node 24, the active LTS line (Node 20 left support in April 2026). tedious 19 and undici 7
# support Node 20 and later; the whole test suite passes on Node 24.21 (docs/agent.md).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
# The build bundles the CLI and makes V8's code cache by one diagnosis of the simulated network
# on loopback; V8 only accepts the cache under the same flags, so it is made with the run-time ones.
RUN MIPROBE_RUNTIME_NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=1" npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="miprobe" \
      org.opencontainers.image.description="Connectivity diagnostics agent for Azure SQL Managed Instance, with Prometheus metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/miprobe/miprobe"
ENV NODE_ENV=production \
    MIPROBE_CONFIG=/etc/miprobe/agent.yaml \
    MIPROBE_AGENT_LISTEN=:9433
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY config/agent.example.yaml config/agent.default.yaml ./config/
# The image's "node" user (uid 1000); numeric so Kubernetes runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 9433
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "dist/agent/healthcheck.js"]
# Memory (docs/agent.md, "Memory"; bench/agent.mjs runs the agent with these two lines):
# - a heap cap (without it V8 lets garbage grow the resident size to 200-290 MiB at 1,000
#   instances) and a 1 MiB young generation (grown to its 16 MiB default, it holds some 30 MiB
#   of garbage at 1,000 instances; the cost is about a fifth more CPU per check);
# - glibc's allocator kept from hoarding freed memory in per-thread arenas and from serving
#   large buffers (a 4 MiB /metrics answer) out of its heaps, where they fragment it.
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=1"
ENV MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=65536 MALLOC_MMAP_THRESHOLD_=65536
ENTRYPOINT ["node", "dist/cli/launch.cjs"]
CMD ["agent"]
