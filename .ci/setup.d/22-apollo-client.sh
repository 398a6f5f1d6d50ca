#!/usr/bin/env bash
# Apollo Client for the Node client test (TestApolloClient), pinned in
# tests/apollo-client/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm ci --prefix tests/apollo-client --ignore-scripts --no-audit --no-fund
