#!/usr/bin/env bash
# Checks the namespace test bed on its own, without a director: a failure here is the
# bed's (or the machine's), not lvsd's. Run as root; takes a few seconds.
#
#   scripts/testbed-selftest.sh
#
# Prints one line per check and ends with "N passed, N failed".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESTBED=$ROOT/scripts/testbed.sh
((EUID == 0)) || { echo "testbed-selftest: needs root" >&2; exit 1; }

passed=0 failed=0
check() {  # description command...  (command's exit status decides)
    local what=$1
    shift
    if "$@"; then
        echo "  ok    $what"
        passed=$((passed + 1))
    else
        echo "  FAIL  $what"
        failed=$((failed + 1))
    fi
}

BED=
TMP=$(mktemp -d)
cleanup() {
    local rc=$?
    set +e
    [[ -n $BED ]] && "$TESTBED" down "$BED" >&2
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

BED=$("$TESTBED" up | tail -n 1)
eval "$("$TESTBED" env "$BED")"
in_ns() { ip netns exec "$1" "${@:2}"; }
client_curl() { in_ns "$NS_CLIENT" curl -sf --max-time 5 "$@"; }

all_namespaces_exist() {
    local ns
    for ns in "$NS_SW" "$NS_CLIENT" "$NS_DIRECTOR" "$NS_RS1" "$NS_RS2" "$NS_RS3"; do
        [[ -e /run/netns/$ns ]] || return 1
    done
}
check "up created 6 namespaces with prefix $BED" all_namespaces_exist
check "'list' shows $BED" grep -qxF "$BED" <("$TESTBED" list)

rs_answers_name() { [[ $(client_curl "http://$2/") == "$1" ]]; }
check "rs1 answers GET / on $RS1_IP" rs_answers_name rs1 "$RS1_IP"
check "rs2 answers GET / on $RS2_IP" rs_answers_name rs2 "$RS2_IP"
check "rs3 answers GET / on $RS3_IP" rs_answers_name rs3 "$RS3_IP"

# The same blob from every server, and equal to the digest the server announces.
blob_consistent() {
    local ip sums=() header
    for ip in "$RS1_IP" "$RS2_IP" "$RS3_IP"; do
        client_curl -D "$TMP/h" -o "$TMP/blob" "http://$ip/blob/3000000" || return 1
        [[ $(stat -c %s "$TMP/blob") == 3000000 ]] || return 1
        header=$(tr -d '\r' <"$TMP/h" | awk -F': ' 'tolower($1) == "x-blob-sha256" {print $2}')
        sums+=("$(sha256sum <"$TMP/blob" | cut -d' ' -f1)")
        [[ ${sums[-1]} == "$header" ]] || return 1
    done
    [[ ${sums[0]} == "${sums[1]}" && ${sums[1]} == "${sums[2]}" ]]
}
check "GET /blob/3000000 is identical on rs1-3 and matches X-Blob-SHA256" blob_consistent

upload_digest() {
    head -c 5000000 /dev/urandom >"$TMP/up"
    local want got
    want="rs2 $(sha256sum <"$TMP/up" | cut -d' ' -f1) 5000000"
    got=$(client_curl --data-binary @"$TMP/up" "http://$RS2_IP/upload")
    [[ $got == "$want" ]]
}
check "POST /upload of 5 MB returns its sha256 and length" upload_digest

# The UDP socket is bound to the VIP; without a director the only way to reach it is
# from the real server itself.
udp_echo() {
    [[ $(echo ping | in_ns "$NS_RS3" timeout 5 socat -t 2 - "UDP4:$VIP:$UDP_PORT") == "rs3 ping" ]]
}
check "UDP $VIP:$UDP_PORT on rs3 echoes 'rs3 <payload>'" udp_echo

# arp_ignore=1 on the real servers and no VIP on the director: nobody may answer ARP
# for the VIP until lvsd does. arping exits 1 when it got no reply.
vip_arp_silent() {
    local out
    out=$(in_ns "$NS_CLIENT" timeout 5 arping -c 2 -w 3 -I "$IFACE" "$VIP" 2>&1) || true
    grep -q 'Received 0 response' <<<"$out"
}
check "nobody answers ARP for the VIP $VIP (arp_ignore works, director silent)" vip_arp_silent
rs_arp_ok() { in_ns "$NS_CLIENT" timeout 5 arping -c 1 -w 3 -I "$IFACE" "$RS1_IP" >/dev/null 2>&1; }
check "rs1 answers ARP for its own address" rs_arp_ok

director_plain() {
    local ns
    for ns in "$NS_DIRECTOR" "$NS_DIRECTOR2"; do
        [[ $(in_ns "$ns" sysctl -n net.ipv4.ip_forward) == 0 ]] &&
            ! ip -n "$ns" -o addr show | grep -qF "$VIP" || return 1
    done
}
check "both directors have no VIP and ip_forward=0" director_plain

offloads_default() {
    local k
    k=$(in_ns "$NS_CLIENT" ethtool -k "$IFACE")
    grep -q '^tx-checksumming: on' <<<"$k" && grep -q '^tcp-segmentation-offload: on' <<<"$k"
}
check "client veth keeps default offloads (tx checksum, TSO on)" offloads_default

static_fdb() { [[ $(bridge -n "$NS_SW" fdb show br br0 | grep -c ' static') == 6 ]]; }
check "switch has 6 static FDB entries" static_fdb

# GET /status answers the status written in STATEDIR/RS.status (HTTP_GET health tests).
status_file() {
    [[ $(in_ns "$NS_CLIENT" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$RS2_IP/status") == 200 ]] || return 1
    echo 503 >"$STATEDIR/rs2.status"
    [[ $(in_ns "$NS_CLIENT" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$RS2_IP/status") == 503 ]] || return 1
    rm -f "$STATEDIR/rs2.status"
}
check "GET /status on rs2 answers 200, then the 503 written in rs2.status" status_file

# stop-server / start-server (health-check tests take a real server's service down this way).
stop_start() {
    "$TESTBED" stop-server "$BED" rs2 >&2 || return 1
    ! client_curl "http://$RS2_IP/" >/dev/null 2>&1 || return 1
    rs_answers_name rs1 "$RS1_IP" || return 1
    "$TESTBED" start-server "$BED" rs2 >&2 || return 1
    rs_answers_name rs2 "$RS2_IP"
}
check "stop-server rs2 stops only rs2's server; start-server brings it back" stop_start

# Gone or a zombie: orphans are reaped by PID 1 whenever it gets to it.
process_gone() {
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
    stat=${stat##*) }
    [[ ${stat:0:1} == Z ]]
}
read -r rs1_pid _ <"$STATEDIR/rs1.pid"
"$TESTBED" down "$BED" >&2
down_bed=$BED
BED=
nothing_left() {
    ! grep -qxF "$down_bed" <("$TESTBED" list) &&
        ! ip netns list | grep -q "^$down_bed" &&
        [[ ! -e $STATEDIR ]] && process_gone "$rs1_pid"
}
check "down removed namespaces, state dir and servers" nothing_left
down_again() { "$TESTBED" down "$down_bed" >&2; }
check "down is idempotent" down_again

echo "testbed-selftest: $passed passed, $failed failed"
((failed == 0))
