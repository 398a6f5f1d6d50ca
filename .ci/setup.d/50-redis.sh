#!/usr/bin/env bash
# redis-server for the Redis-backed APQ store and response cache tests
# (upstream/cache, graph/apq_test.go, app/perf_test.go, app/wrongbase_test.go). The tests start their
# own server on a free port, so no system service is needed or started here.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  redis-server --version
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends redis-server
# Debian's package enables a system service; the tests do not use it.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
redis-server --version
