#!/usr/bin/env bash
# Differential fuzzing of the single-pass workspace-list scanner against the
# encoding/json decoder it replaced (upstream/scan_test.go): both must fail,
# or both must produce the same list, for any input. 30 seconds per CI run;
# the seed corpus also runs in `go test ./...`.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test ./upstream -run '^$' -fuzz '^FuzzScannerMatchesEncodingJSON$' -fuzztime 30s
