#!/usr/bin/env bash
# Node + the pinned graphql-http audit suite for TestGraphQLOverHTTPAudit.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update
  apt-get install -y nodejs npm
fi
node --version
(cd tests/graphql-http && npm ci --no-audit --no-fund)
