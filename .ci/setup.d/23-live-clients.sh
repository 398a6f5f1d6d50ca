#!/usr/bin/env bash
# The subscription clients for TestLiveJSClients (graphql-ws, graphql-sse,
# Apollo Client's GraphQLWsLink), pinned in tests/live-clients/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm ci --prefix tests/live-clients --ignore-scripts --no-audit --no-fund
