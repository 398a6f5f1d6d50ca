#!/usr/bin/env bash
# The whole suite under the race detector: the isolation test (50
# goroutines, 5 tokens) and the fault and shutdown tests exercise the
# concurrent paths.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -race -count=1 ./...
