#!/usr/bin/env bash
# Times `invent-dispatch report` over a generated journal of ROWS rows
# (default 1,000,000: about 400 MB), with the HTML, JSON and metrics written:
# wall time, CPU time and peak memory from /usr/bin/time -v.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows="${1:-1000000}"
binary="${BINARY:-build/invent-dispatch}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 bench/report/generate_journal.py "$work/journal.jsonl" "$rows"
/usr/bin/time -v "$binary" report "$work/journal.jsonl" --html "$work/report.html" \
    --json "$work/summary.json" --metrics "$work/metrics.prom" >/dev/null 2>"$work/time.txt"
grep -E "Elapsed|User time|System time|Maximum resident" "$work/time.txt"
