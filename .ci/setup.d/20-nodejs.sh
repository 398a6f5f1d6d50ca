#!/usr/bin/env bash
# Node.js and npm for the npm installs below (playground assets, Apollo
# client test). Debian's packages are enough (Node >= 18); an existing
# installation is kept.
set -euo pipefail
if command -v node >/dev/null && command -v npm >/dev/null; then
  echo "node $(node --version), npm $(npm --version) already installed"
  exit 0
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
node --version
