#!/usr/bin/env bash
# Times `invent-dispatch validate` on generated 1,000,000-row CSV and JSONL
# files and prints rows/s (wall clock and CPU) and peak RSS for each.
# Target (issue 3): >= 2,000,000 rows/s and < 32 MiB peak RSS.
#
#   bench/input/run.sh [ROWS]
#   INVENT_DISPATCH=path/to/invent-dispatch  BENCH_DIR=/tmp/invent-bench
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
rows="${1:-1000000}"
"$top/scripts/install-deps" --bench   # python3 for the generator, among others
if [[ -n "${INVENT_DISPATCH:-}" ]]; then
    binary="$INVENT_DISPATCH"
else
    # Release, like the other benchmarks (bench/run, bench/rate).
    RELEASE=1 "$top/scripts/build" --target invent-dispatch >/dev/null
    binary="$top/build-release/invent-dispatch"
fi
data="${BENCH_DIR:-${TMPDIR:-/tmp}/invent-input-bench}/$rows"

if [[ ! -f "$data/contacts.csv" || ! -f "$data/contacts.jsonl" ]]; then
    echo "generating $rows rows in $data" >&2
    python3 "$here/generate.py" --rows "$rows" --out "$data"
fi

printf '%-8s %12s %14s %14s %12s %s\n' format "wall s" "rows/s wall" "rows/s cpu" "peak RSS" exit
for format in csv jsonl; do
    log="$(mktemp)"
    set +e
    /usr/bin/time -v "$binary" validate \
        --assistant-id asst_bench \
        --title 'Offer for {{first_name}} at {{company}}' \
        --message 'Hi {{first_name}} {{last_name}}, we would like to tell you about our spring offer.' \
        "$data/contacts.$format" >/dev/null 2>"$log"
    status=$?
    set -e
    # /usr/bin/time -v prints "Elapsed (wall clock) time (h:mm:ss or m:ss): M:SS.ss".
    awk -v rows="$rows" -v format="$format" -v status="$status" '
        /Elapsed \(wall clock\)/ {
            n = split($NF, part, ":"); wall = 0
            for (i = 1; i <= n; i++) wall = wall * 60 + part[i]
        }
        /User time \(seconds\)/ { cpu += $NF }
        /System time \(seconds\)/ { cpu += $NF }
        /Maximum resident set size/ { rss = $NF / 1024 }
        END {
            printf "%-8s %12.2f %14.0f %14.0f %9.1f MiB %d\n", format, wall,
                   (wall > 0 ? rows / wall : 0), (cpu > 0 ? rows / cpu : 0), rss, status
        }' "$log"
    if [[ $status -ne 0 && $status -ne 1 ]]; then
        echo "validate failed on $format:" >&2
        tail -5 "$log" >&2
    fi
    rm -f "$log"
done
