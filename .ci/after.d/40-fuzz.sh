#!/usr/bin/env bash
# Each fuzz target for a short fixed time, from the committed seed corpora
# (testdata/fuzz/...). A failure leaves the crashing input in testdata/fuzz
# and fails CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZTIME="${FUZZTIME:-20s}"
go test -run '^$' -fuzz '^FuzzDecodeWorkspaceList$' -fuzztime "$FUZZTIME" ./upstream
go test -run '^$' -fuzz '^FuzzDecodeBase$' -fuzztime "${BASE_FUZZTIME:-10s}" ./upstream
go test -run '^$' -fuzz '^FuzzGraphQLHandler$' -fuzztime "$FUZZTIME" ./app
