#!/usr/bin/env bash
# SwiftLVS's test command (README, CI): as root, from any directory.
#
#   sudo scripts/test.sh [swift test arguments...]     e.g. --filter IntegrationTests
#
# 1. installs the Debian packages the tests use (scripts/install-deps.sh);
# 2. `swift build` (debug, every product, so the integration tests have an lvsd);
# 3. checks the namespace test bed itself (scripts/testbed-selftest.sh), so a broken
#    bed is reported as such and not as a director bug (skip: LVS_SKIP_BED_SELFTEST=1);
# 4. `swift test "$@"`, with the integration tests pointed at the binary and the bed:
#      LVSD_BIN     lvsd to test (default: the debug build's; an exported value wins)
#      LVS_REALSERVER_BIN  lvs-realserver to test (same rule)
#      LVSADM_BIN   lvsadm to test (same rule)
#      LVS_TESTBED  absolute path of scripts/testbed.sh
# 5. fails if a test left a test bed behind, after removing it: every bed built
#    during the run with this run's LVS_TESTBED_OWNER tag. Other beds (a demo in
#    another terminal) are left alone.
# Exit status: swift test's, or 1 if the self-test failed or a bed was left over.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TESTBED=$ROOT/scripts/testbed.sh

if ((EUID != 0)); then
    echo "test: the integration tests need root (network namespaces, packet sockets)." >&2
    echo "      run: sudo $0 $*" >&2
    exit 1
fi

scripts/install-deps.sh
echo "test: $(swift --version 2>/dev/null | head -n 1); kernel $(uname -r)"

echo "test: swift build (debug, all products)"
swift build
BIN_DIR=$(swift build --show-bin-path)
export LVSD_BIN=${LVSD_BIN:-$BIN_DIR/lvsd}
export LVS_REALSERVER_BIN=${LVS_REALSERVER_BIN:-$BIN_DIR/lvs-realserver}
export LVSADM_BIN=${LVSADM_BIN:-$BIN_DIR/lvsadm}
export LVS_TESTBED=$TESTBED
for bin in "$LVSD_BIN" "$LVS_REALSERVER_BIN" "$LVSADM_BIN"; do
    if [[ ! -x $bin ]]; then
        echo "test: no binary at $bin after the build" >&2
        exit 1
    fi
done
echo "test: LVSD_BIN=$LVSD_BIN LVSADM_BIN=$LVSADM_BIN LVS_REALSERVER_BIN=$LVS_REALSERVER_BIN LVS_TESTBED=$LVS_TESTBED"

# Every bed our tests build carries this tag (testbed.sh writes it to STATEDIR/owner);
# beds present before we started, or built by someone else meanwhile (a demo in
# another terminal), are not ours to judge or remove.
export LVS_TESTBED_OWNER="scripts/test.sh pid $$"
beds_before=$("$TESTBED" list)

# Removes the beds that appeared during the run; true if there were none. Also runs
# when we are interrupted, so a Ctrl-C does not strand namespaces either.
LEFTOVERS_CHECKED=0
check_leftovers() {
    LEFTOVERS_CHECKED=1
    local p statedir owner
    local -a leftover=()
    # New since the start, and tagged by us, or with no state dir left to tell.
    for p in $(comm -13 <(echo "$beds_before" | sort) <("$TESTBED" list | sort)); do
        statedir=$("$TESTBED" env "$p" | sed -n 's/^STATEDIR=//p')
        owner=$(cat "$statedir/owner" 2>/dev/null) || owner=
        if [[ ! -d $statedir || $owner == "$LVS_TESTBED_OWNER" ]]; then
            leftover+=("$p")
        fi
    done
    ((${#leftover[@]})) || return 0
    echo "test: FAIL: test bed(s) left behind by the tests:" >&2
    for p in "${leftover[@]}"; do
        echo "  $p: $(ip netns list | awk -v p="$p" 'index($1, p) == 1 {printf "%s ", $1}')" >&2
        "$TESTBED" down "$p" >&2 || echo "test: could not remove $p" >&2
    done
    return 1
}
# shellcheck disable=SC2317  # reached through the EXIT trap
on_exit() {
    local rc=$?
    set +e
    if ((!LEFTOVERS_CHECKED)); then
        check_leftovers || ((rc != 0)) || rc=1
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rc=0
if [[ ${LVS_SKIP_BED_SELFTEST:-0} != 1 ]]; then
    echo "test: namespace test bed self-test"
    scripts/testbed-selftest.sh || rc=1
fi

echo "test: swift test $*"
swift_rc=0
swift test "$@" || swift_rc=$?
((swift_rc == 0)) || rc=$swift_rc

check_leftovers || { ((rc != 0)) || rc=1; }
exit "$rc"
