#!/usr/bin/env bash
# relay-compiler and relay-runtime for TestRelay, pinned in
# tests/relay/package-lock.json (relay-compiler ships its binaries in the
# package: no install scripts needed).
set -euo pipefail
cd "$(dirname "$0")/../.."
npm ci --prefix tests/relay --ignore-scripts --no-audit --no-fund
