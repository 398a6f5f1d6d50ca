#!/usr/bin/env bash
# Node.js and npm for the npm installs below (playground assets, the client,
# codegen and federation tests). Node 20 or newer: Apollo Server 5 and the
# gateway of the federation test need it. An existing installation is kept.
set -euo pipefail
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "node $(node --version) is too old: the tests need Node 20 or newer" >&2
  exit 1
fi
echo "node $(node --version), npm $(npm --version)"
