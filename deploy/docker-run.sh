#!/bin/sh
# Example: Tideline under plain Docker. Secrets come from this shell's environment (`-e NAME`
# without a value), so they never appear on the command line, in `ps` or in shell history.
#
#   export TIDELINE_WEBHOOK_SECRET=... TIDELINE_GITHUB_APP_ID=... TIDELINE_WEB_PASSWORD=...
#   sh deploy/docker-run.sh
#
# The image runs as uid 10001: the private key file must be readable by it
# (e.g. `chgrp 10001 tideline.private-key.pem && chmod 0440 tideline.private-key.pem`).
#
# --stop-timeout must exceed TIDELINE_SHUTDOWN_TIMEOUT (120 s by default): `docker stop` sends
# SIGTERM, the server lets running applies finish for up to that long, then exits 0; Docker's
# default of 10 s would SIGKILL an apply halfway.
set -eu

docker run -d --name tideline --restart unless-stopped \
  --stop-timeout 150 \
  --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
  -p 4141:4141 \
  -v tideline-data:/data \
  -v "$PWD/tideline.private-key.pem:/etc/tideline/github-app.pem:ro" \
  -e TIDELINE_WEBHOOK_SECRET \
  -e TIDELINE_GITHUB_APP_ID \
  -e TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE=/etc/tideline/github-app.pem \
  -e TIDELINE_REPO_ALLOWLIST='acme/*' \
  -e TIDELINE_URL=https://tideline.example.com \
  -e TIDELINE_SHUTDOWN_TIMEOUT=120 \
  -e TIDELINE_WEB_USERNAME=ops \
  -e TIDELINE_WEB_PASSWORD \
  tideline:0.1.0
