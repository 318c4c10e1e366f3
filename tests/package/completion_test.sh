#!/usr/bin/env bash
# The bash completion script, driven the way bash drives it (COMP_WORDS,
# COMP_CWORD, the function `complete -p` names), against the binary's --help.
#   completion_test.sh COMPLETION_SCRIPT BINARY
script=$1
binary=$2
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=/dev/null
source "$script" || { echo "FAIL: cannot source $script"; exit 1; }
spec=$(complete -p invent-dispatch 2>/dev/null) || { echo "FAIL: no completion for invent-dispatch"; exit 1; }
function=$(sed -n 's/.*-F \([^ ]*\) .*/\1/p' <<<"$spec")
[[ -n $function ]] || { echo "FAIL: complete -p gives no function: $spec"; exit 1; }

# The words bash would offer for LINE (completed at its end), one a line.
# Bash splits at COMP_WORDBREAKS, so "--format=" is "--format" "=" "".
offered() {
    local line=$1
    local -a words
    read -ra words <<<"${line//=/ = }"
    [[ $line == *" " || $line == *= ]] && words+=("")
    COMP_WORDS=("${words[@]}")
    COMP_CWORD=$((${#words[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    "$function" invent-dispatch "${words[COMP_CWORD]}" "${words[COMP_CWORD-1]}" 2>/dev/null
    ((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}"
}
expect_offered() {   # LINE WORD...
    local line=$1 word all
    shift
    all=$(offered "$line")
    for word in "$@"; do
        grep -qxF -- "$word" <<<"$all" || fail "'$line<TAB>' does not offer '$word' (offers: $(tr '\n' ' ' <<<"$all"))"
    done
}
expect_exactly() {   # LINE WORD...
    local line=$1 all
    shift
    all=$(offered "$line" | sort | tr '\n' ' ')
    local want
    want=$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')
    [[ $all == "$want" ]] || fail "'$line<TAB>' offers '$all', expected '$want'"
}

help=$("$binary" --help)

# Every command of --help, and the global flags.
commands=$(awk '/^Commands:$/ {on = 1; next} /^[^ ]/ {on = 0} on && /^  [a-z]/ {print $1}' <<<"$help")
[[ -n $commands ]] || fail "no commands found in --help"
# shellcheck disable=SC2086
expect_offered "invent-dispatch " $commands --help --version
expect_exactly "invent-dispatch va" validate

# Every option --help lists for a command is offered after `COMMAND --`.
while read -r header; do
    section_commands=$(sed 's/^Options for //; s/:$//; s/,/ /g; s/ and / /g' <<<"$header")
    section_options=$(awk -v h="$header" '$0 == h {on = 1; next} /^[^ ]/ {on = 0} on && /^  --/ {print $1}' <<<"$help")
    [[ -n $section_options ]] || fail "no options under '$header'"
    for command in $section_commands; do
        # shellcheck disable=SC2086
        expect_offered "invent-dispatch $command --" $section_options
    done
done < <(grep '^Options for .*:$' <<<"$help")

# --concurrency's siblings, and options of another command left out.
expect_exactly "invent-dispatch run --con" --concurrency --config
expect_exactly "invent-dispatch mock --ho" --host --honour-idempotency

# Values: the choices, after a space or an '=', and each one the binary takes.
expect_exactly "invent-dispatch run --format " csv tsv jsonl
expect_exactly "invent-dispatch validate --format=j" jsonl
expect_exactly "invent-dispatch run --log-level " trace debug info warn error off
printf 'contact_id,channel_id\nc1,ch1\n' >"$work/rows.csv"
for format in $(offered "invent-dispatch validate --format "); do
    "$binary" validate --format "$format" "$work/rows.csv" >/dev/null 2>"$work/err"
    grep -q "unknown format" "$work/err" && fail "the binary refuses the offered --format $format"
done
for level in $(offered "invent-dispatch validate --log-level "); do
    "$binary" validate --log-level "$level" "$work/rows.csv" >/dev/null 2>"$work/err"
    grep -q "unknown log level" "$work/err" && fail "the binary refuses the offered --log-level $level"
done

# Paths complete to files; a typed value (N, URL) to nothing; the input is a file.
mkdir "$work/cwd" && touch "$work/cwd/journal.jsonl" "$work/cwd/input.csv"
cd "$work/cwd" || exit 1
expect_exactly "invent-dispatch run --results jo" journal.jsonl
expect_exactly "invent-dispatch run --token-file=in" input.csv
expect_exactly "invent-dispatch mock --cert-out jo" journal.jsonl
expect_exactly "invent-dispatch run --concurrency "
expect_exactly "invent-dispatch run --base-url "
expect_exactly "invent-dispatch validate --strict in" input.csv
expect_exactly "invent-dispatch mock in"

finish "completion: every command and option of --help offered"
