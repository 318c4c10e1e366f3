# Sourced by the package tests: a failure is counted and the test goes on, so
# one run lists every problem; `finish` ends the test with their verdict.
set -uo pipefail
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
finish() {   # SUMMARY: said when nothing failed
    if ((failures > 0)); then
        echo "$failures failure(s)"
        exit 1
    fi
    echo "$1"
}
