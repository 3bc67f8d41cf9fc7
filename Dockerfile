# syntax=docker/dockerfile:1.7
# Tideline server image: multi-stage, Node 20 slim, terraform and kubectl pinned and
# checksum-verified, non-root, /data as a volume, healthcheck on /healthz.
#
# terraform and kubectl are pinned for linux/amd64 and linux/arm64. This repository's CI has
# no Docker engine, so test/unit/dockerfile.test.ts checks this file statically and runs the
# tools stage's download script with stand-ins for curl, sha256sum and unzip; build it with
# `docker build -t tideline .` where an engine exists.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: compile TypeScript, keep production dependencies only ----------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY config ./config
COPY runners ./runners
COPY server ./server
RUN npm run build && npm prune --omit=dev

# ---- tools: fetch and verify terraform and kubectl -------------------------------------
FROM ${NODE_IMAGE} AS tools
# BuildKit sets TARGETARCH to the platform being built (`docker buildx build --platform
# linux/arm64`); the checksums are the published SHA-256 of each release artefact.
ARG TARGETARCH
ARG TERRAFORM_VERSION=1.11.4
ARG TERRAFORM_SHA256_AMD64=1ce994251c00281d6845f0f268637ba50c0005657eb3cf096b92f753b42ef4dc
ARG TERRAFORM_SHA256_ARM64=a43d1d0da9b9bab214a8305a39db0e40869572594ccf50c416a7756499143633
ARG KUBECTL_VERSION=1.33.0
ARG KUBECTL_SHA256_AMD64=9efe8d3facb23e1618cba36fb1c4e15ac9dc3ed5a2c2e18109e4a66b2bac12dc
ARG KUBECTL_SHA256_ARM64=48541d119455ac5bcc5043275ccda792371e0b112483aa0b29378439cf6322b9
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /tools
RUN arch="${TARGETARCH:-amd64}" \
 && case "$arch" in \
      amd64) terraform_sha256="$TERRAFORM_SHA256_AMD64"; kubectl_sha256="$KUBECTL_SHA256_AMD64" ;; \
      arm64) terraform_sha256="$TERRAFORM_SHA256_ARM64"; kubectl_sha256="$KUBECTL_SHA256_ARM64" ;; \
      *) echo "no pinned terraform and kubectl checksums for the architecture $arch: build for linux/amd64 or linux/arm64, or add its checksums to the Dockerfile" >&2; exit 1 ;; \
    esac \
 && curl -fsSLo terraform.zip "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_${arch}.zip" \
 && echo "${terraform_sha256}  terraform.zip" | sha256sum -c - \
 && unzip -q terraform.zip terraform \
 && rm terraform.zip \
 && curl -fsSLo kubectl "https://dl.k8s.io/release/v${KUBECTL_VERSION}/bin/linux/${arch}/kubectl" \
 && echo "${kubectl_sha256}  kubectl" | sha256sum -c - \
 && chmod 0755 terraform kubectl

# ---- runtime ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tideline \
 && useradd --system --uid 10001 --gid tideline --home-dir /data --shell /usr/sbin/nologin tideline \
 && mkdir -p /data \
 && chown tideline:tideline /data
COPY --from=tools /tools/terraform /tools/kubectl /usr/local/bin/
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
ENV NODE_ENV=production \
    TIDELINE_PORT=4141 \
    TIDELINE_DATA_DIR=/data \
    TF_IN_AUTOMATION=1
USER tideline:tideline
VOLUME ["/data"]
EXPOSE 4141
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.TIDELINE_PORT||4141)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini reaps terraform's and kubectl's children and forwards SIGTERM to node, which drains jobs.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server/main.js"]
