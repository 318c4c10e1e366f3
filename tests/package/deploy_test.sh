#!/usr/bin/env bash
# deploy/'s systemd units: systemd-analyze verify finds nothing to say about
# them against the installed layout (the binary at /usr/bin), and the
# service's command line, with %d expanded as systemd does for
# LoadCredential=, dispatches against the mock with the token read from the
# credential file.
#   deploy_test.sh SOURCE_DIR BINARY
source_dir=$1
binary=$2
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh"

work=$(mktemp -d)
mock_pid=
cleanup() {
    [[ -n $mock_pid ]] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
service=$source_dir/deploy/invent-dispatch.service
timer=$source_dir/deploy/invent-dispatch.timer

# A root with the binary where the unit says and the system's targets.
root=$work/root
units=$root/usr/lib/systemd/system
mkdir -p "$root/usr/bin" "$units"
cp "$binary" "$root/usr/bin/invent-dispatch"
cp /usr/lib/systemd/system/*.target "$units/"
cp "$service" "$timer" "$units/"
if ! output=$(systemd-analyze verify --man=no --root="$root" "$units/invent-dispatch.timer" \
                  "$units/invent-dispatch.service" 2>&1) || [[ -n $output ]]; then
    fail "systemd-analyze verify: $output"
fi

# ExecStart as systemd runs it: the continuation lines joined, %d the
# credentials folder, the unit's folders moved under $work.
exec_start=$(sed -e ':join' -e '/\\$/{N; s/\\\n//; b join}' "$service" | sed -n 's/^ExecStart=//p')
[[ $exec_start == *"--token-file %d/invent-token"* ]] || fail "ExecStart does not read the token from %d: $exec_start"
grep -q '^LoadCredential=invent-token:' "$service" || fail "no LoadCredential=invent-token in the service"
credentials=$work/credentials
mkdir -p "$credentials" "$work/etc" "$work/state"
printf 'unit-token\n' >"$credentials/invent-token"
cp "$source_dir/config/invent-dispatch.toml" "$work/etc/invent-dispatch.toml"
printf 'contact_id,channel_id,first_name\nc1,ch1,Ada\nc2,ch1,Grace\nc3,ch2,Edsger\n' >"$work/state/contacts.csv"
command=${exec_start//%d/$credentials}
command=${command//\/etc\/invent-dispatch/$work/etc}
command=${command//\/var\/lib\/invent-dispatch/$work/state}
command=${command/\/usr\/bin\/invent-dispatch/$binary}

"$binary" mock --plain --port 0 --token unit-token >"$work/mock.out" 2>&1 &
mock_pid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$work/mock.out" && break
    sleep 0.1
done
url=$(sed -n 's/.*listening on //p' "$work/mock.out")
[[ -n $url ]] || { cat "$work/mock.out"; echo "FAIL: the mock did not start"; exit 1; }

# shellcheck disable=SC2086  # the unit's words, as systemd splits them
(cd "$work/state" && env -u INVENT_API_TOKEN INVENT_BASE_URL="$url" $command) >"$work/run.log" 2>&1
status=$?
[[ $status -eq 0 ]] || { cat "$work/run.log"; fail "the service's command exited $status"; }
created=$(grep -c '"outcome":"created"' "$work/state/contacts.csv.results.jsonl" 2>/dev/null)
[[ $created -eq 3 ]] || fail "the service's command created $created chats of 3"

finish "deploy: the units verify; the service's command dispatched with the credential's token"
