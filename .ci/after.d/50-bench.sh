#!/usr/bin/env bash
# Runs every Go benchmark briefly (100 iterations each, no tests) so the
# benchmarks keep compiling and running; the numbers are not checked. The
# full load run is `go run ./bench` (see README), too long and too noisy
# for CI. About a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -run '^$' -bench . -benchmem -benchtime=100x ./upstream ./app
