#!/usr/bin/env bash
# Federation composition and gateway tests (TestFederation* in app/): The
# Guild's and Apollo's composition, Apollo Gateway and Server, pinned in
# tests/federation/package-lock.json. @apollo/composition and
# @apollo/gateway are under the Elastic License 2.0: test dependencies
# only, never shipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm ci --prefix tests/federation --ignore-scripts --no-audit --no-fund
