#!/usr/bin/env bash
# Differential fuzzing of the GraphQL fast path against gqlgen's executor
# (graph/fastpath_test.go): random valid operations over every fixture and
# failing upstreams must get the same response bytes both ways. 30 seconds
# per CI run; the seed corpus also runs in `go test ./...`.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test ./graph -run '^$' -fuzz '^FuzzFastPath$' -fuzztime 30s
