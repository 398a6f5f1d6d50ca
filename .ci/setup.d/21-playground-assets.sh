#!/usr/bin/env bash
# GraphiQL, React and ReactDOM for the offline playground, at the versions
# pinned in web/playground/package-lock.json (the README's install command).
set -euo pipefail
cd "$(dirname "$0")/../.."
npm ci --prefix web/playground --ignore-scripts --no-audit --no-fund
