#!/usr/bin/env bash
# GraphQL Code Generator's client-preset and urql's persistedExchange for
# TestClientPresetPersistedDocuments, pinned in tests/codegen/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm ci --prefix tests/codegen --ignore-scripts --no-audit --no-fund
