# syntax=docker/dockerfile:1
# One image for every role of vm-dhcp: `vm-dhcp controller|agent|webhook ...` (the entry point
# takes the role as its first argument, or --role=<role>).
#
#   docker build -t vm-dhcp/vm-dhcp:0.1.0 .
#
# Stage 1 builds the one-file bundle (dist/vm-dhcp.mjs) with the workspace's pinned pnpm;
# stage 2 is a small Debian-based Node 20 with nothing but that file, `ip` and tini.

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
# pnpm at the version package.json pins (packageManager), from the npm registry, as
# scripts/bootstrap.sh installs it (corepack's signature keys lag behind new pnpm releases).
RUN npm install --global "pnpm@$(node -p 'require("./package.json").packageManager.split("@")[1]')"
COPY packages/cli/package.json packages/cli/
COPY packages/core/package.json packages/core/
COPY packages/dhcp-codec/package.json packages/dhcp-codec/
COPY packages/ipam/package.json packages/ipam/
RUN pnpm install --frozen-lockfile
COPY tsconfig.base.json tsconfig.check.json esbuild.config.mjs ./
COPY packages packages
# Type-checks every package (tsc -b), then bundles the CLI from the sources.
RUN pnpm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# iproute2: the agent pod's init step runs `ip address flush/add dev eth1` in this image (the
#   chart points the controller's AGENT_INIT_IMAGE at it), so no second image is pulled.
# tini: PID 1 that forwards SIGTERM, so a role still starting (before its own signal handler
#   is installed) stops at once instead of waiting out the grace period.
RUN apt-get update \
  && apt-get install -y --no-install-recommends iproute2 tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/dist/vm-dhcp.mjs /src/dist/vm-dhcp.mjs.map /src/dist/vm-dhcp.mjs.LEGAL.txt ./
# The controller and the webhook run as this user (the chart sets runAsUser 65532,
# runAsNonRoot, a read-only root file system and drops every capability): they only talk
# HTTPS to the API server and listen on ports above 1024 (8080, 8443).
#
# The agent pods are made by the controller, not by the chart:
# - their init step runs as root with NET_ADMIN, to put the pool's server address on eth1;
# - the agent runs as this user with every capability dropped: it binds UDP port 67 because
#   the pod sets the network-namespaced sysctl net.ipv4.ip_unprivileged_port_start=67. It
#   needs neither NET_RAW (plain UDP sockets: replies to clients without an address go to
#   255.255.255.255, no raw frames or ARP entries) nor NET_ADMIN.
RUN groupadd --system --gid 65532 vm-dhcp \
  && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
     --shell /usr/sbin/nologin vm-dhcp
USER 65532:65532
ENV NODE_ENV=production
# Stack traces name the TypeScript sources (the bundle's linked map); about 40 ms of start-up.
ENV NODE_OPTIONS=--enable-source-maps
EXPOSE 8080 8443
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/vm-dhcp.mjs"]
CMD ["--help"]
