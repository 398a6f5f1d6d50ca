#!/usr/bin/env bash
# Installs, without root, what the skipped tests of `go test ./...` need
# beyond Go: the npm packages pinned in this repository (the offline
# playground's GraphiQL, Apollo Client, urql, Relay, the GraphQL-over-HTTP audit suite,
# the subscription clients graphql-ws and graphql-sse).
# It then says which system programs are still missing (chromium,
# redis-server) and how to get them; those need a package manager.
# Run from anywhere: bash scripts/dev-deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: install Node.js 18 or newer (https://nodejs.org, or apt-get install nodejs npm)," >&2
  echo "then run this script again." >&2
  exit 1
fi
for dir in web/playground tests/apollo-client tests/urql tests/relay tests/graphql-http tests/live-clients tests/codegen tests/federation; do
  echo "-- npm ci --prefix $dir"
  npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund
done
echo "The playground is now served offline; restart a server that was already running (it looks for the files at start)."

missing=0
# need <what> <how to install> <program>...: is any of the programs on PATH?
need() {
  local what="$1" how="$2"
  shift 2
  for p in "$@"; do
    if command -v "$p" >/dev/null 2>&1; then
      echo "ok: $what ($(command -v "$p"))"
      return
    fi
  done
  echo "missing: $what; install it with: $how"
  missing=1
}
need chromium "sudo apt-get install chromium (macOS: brew install --cask chromium)" chromium chromium-browser
need redis-server "sudo apt-get install redis-server (macOS: brew install redis)" redis-server
if [ "$missing" = 1 ]; then
  echo "go test ./... skips the tests that need a missing program (under CI=true they fail)."
fi
