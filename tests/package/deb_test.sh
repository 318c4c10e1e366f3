#!/usr/bin/env bash
# The .deb as a user gets it: built by cpack from this build, unpacked into a
# temporary root with dpkg -x, its binary running the demo from a folder
# outside the source tree, lintian finding no error, the man page and the
# completion in it.
#   deb_test.sh BUILD_DIR
build=$1
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1; then
    cat "$work/cpack.log"
    echo "FAIL: cpack"
    exit 1
fi
debs=("$work"/out/invent-dispatch_*.deb)
[[ -f ${debs[0]} && ${#debs[@]} -eq 1 ]] || { echo "FAIL: cpack made no single invent-dispatch_*.deb"; ls "$work/out"; exit 1; }
deb=${debs[0]}
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# The dependencies are what dpkg-shlibdeps found the binary links.
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for package in libc6 libssl3 libstdc++6; do
    grep -q "\b$package\b" <<<"$depends" || fail "Depends lacks $package"
done

root=$work/root
dpkg -x "$deb" "$root" || { echo "FAIL: dpkg -x"; exit 1; }
for file in usr/bin/invent-dispatch \
            usr/share/man/man1/invent-dispatch.1.gz \
            usr/share/bash-completion/completions/invent-dispatch \
            usr/share/doc/invent-dispatch/README.md \
            usr/share/doc/invent-dispatch/copyright \
            usr/share/doc/invent-dispatch/changelog.gz \
            usr/share/doc/invent-dispatch/examples/invent-dispatch.toml \
            usr/share/invent-dispatch/examples/contacts.csv; do
    [[ -f $root/$file ]] || fail "the package has no $file"
done

# The man page is the binary's --help: every option in it.
man_text=$(zcat "$root/usr/share/man/man1/invent-dispatch.1.gz")
grep -q '^\.TH INVENT-DISPATCH "1"' <<<"$man_text" || fail "the man page has no .TH INVENT-DISPATCH 1 header"
for option in $("$root/usr/bin/invent-dispatch" --help | awk '/^  --/ {print $1}' | sort -u); do
    grep -qF -- "${option//-/\\-}" <<<"$man_text" || fail "the man page does not mention $option"
done

# The completion installed is the one bash-completion loads on demand.
(
    # shellcheck source=/dev/null
    source "$root/usr/share/bash-completion/completions/invent-dispatch"
    complete -p invent-dispatch | grep -q -- '-F _invent_dispatch invent-dispatch'
) || fail "the installed completion does not register _invent_dispatch for invent-dispatch"

# The installed binary runs the demo from anywhere: it lists a segment from
# its mock into its own folder and dispatches that.
mkdir "$work/elsewhere"
if (cd "$work/elsewhere" && TMPDIR=$work "$root/usr/bin/invent-dispatch" demo >"$work/demo.log" 2>&1); then
    listed=$(sed -n 's/^dispatching \([^ ]*spring\.csv\) .*/\1/p' "$work/demo.log" | head -1)
    [[ -f $listed && $listed == "$work"/* ]] ||
        fail "the demo did not dispatch the segment it listed: $(grep dispatching "$work/demo.log" | head -1)"
    rows=$(($(wc -l <"$listed") - 1))
    journal=$(sed -n 's/^results journal: //p' "$work/demo.log")
    created=$(grep -c '"outcome":"created"' "$journal" 2>/dev/null)
    [[ $created -eq $rows ]] || fail "the demo created $created chats for $rows listed rows"
else
    cat "$work/demo.log"
    fail "the installed binary's demo failed"
fi

# lintian: no error (warnings and notes are printed, not failed on).
lintian --fail-on error "$deb" 2>&1 | grep -v '^running with root privileges'
[[ ${PIPESTATUS[0]} -eq 0 ]] || fail "lintian reports errors"

finish "package: built, unpacked, demo ran from the unpacked root, lintian clean of errors"
