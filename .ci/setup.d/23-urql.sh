#!/usr/bin/env bash
# urql and graphcache for the Node client test (TestUrqlGraphcache), pinned
# in tests/urql/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm ci --prefix tests/urql --ignore-scripts --no-audit --no-fund
