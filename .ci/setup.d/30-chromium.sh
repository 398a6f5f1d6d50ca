#!/usr/bin/env bash
# Headless Chromium for the playground browser test (TestPlaygroundInBrowser).
set -euo pipefail
if command -v chromium >/dev/null; then
  chromium --version
  exit 0
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
chromium --version
