#!/usr/bin/env bash
# The SwiftLVS namespace test bed: one L2 segment with a client, two directors and three
# DR real servers, each in its own network namespace (the design notes, TESTBED.md
# §1, say why it looks the way it does).
#
#   ${PREFIX}sw        bridge br0; ports p-client p-dir p-dir2 p-rs1 p-rs2 p-rs3
#   ${PREFIX}client    eth0 10.200.0.10/24  02:00:0a:c8:00:0a
#   ${PREFIX}director  eth0 10.200.0.2/24   02:00:0a:c8:00:02  (no VIP, no forwarding)
#   ${PREFIX}director2 eth0 10.200.0.3/24   02:00:0a:c8:00:03  (the same; the backup of an
#                      HA pair, idle otherwise)
#   ${PREFIX}rs1..rs3  eth0 10.200.0.11-13  02:00:0a:c8:00:0b-0d, VIP 10.200.0.100/32 on lo,
#                      arp_ignore=1 arp_announce=2, scripts/rs-server.py running
#
# Usage:
#   testbed.sh up [PREFIX]          build a bed; prints PREFIX as the last stdout line
#   testbed.sh down PREFIX          stop its processes, delete it (idempotent)
#   testbed.sh env PREFIX           print KEY=value lines (eval-able) describing the bed
#   testbed.sh list                 prefixes of beds that exist (even half-built ones)
#   testbed.sh exec PREFIX HOST cmd...   run cmd in HOST's namespace
#                                   (HOST: client director director2 rs1 rs2 rs3 sw)
#   testbed.sh track PREFIX NAME PID     record PID so that `down` stops it too
#   testbed.sh stop-server PREFIX RS     stop rs-server.py on RS (rs1 rs2 rs3)
#   testbed.sh start-server PREFIX RS    start it again; returns once it answers
#
# PREFIX: 1-12 chars of [a-z0-9-], starting with a letter or digit; default lvs-XXXX-
# (4 random hex digits). State: /run/lvs-testbed/PREFIX/ (NAME.pid, NAME.log, env, owner,
# RS.status: the HTTP status rs-server.py answers on GET /status, 200 when absent).
# Everything but the prefix goes to stderr, so `P=$(testbed.sh up | tail -n1)` works.
# Environment: LVS_TESTBED_PYTHON (interpreter for rs-server.py; default /usr/bin/python3),
# LVS_TESTBED_STATE_ROOT (default /run/lvs-testbed), LVS_TESTBED_OWNER (a tag `up` writes
# to STATEDIR/owner; default "none"), LVS_TESTBED_RS_SETUP (`dr`, the default: VIP on lo and
# the ARP sysctls on every real server; `none`: bare real servers, no VIP, arp_ignore and
# arp_announce explicitly 0, for tests of lvs-realserver).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Overridable so a test of this script cannot collide with real beds.
STATE_ROOT=${LVS_TESTBED_STATE_ROOT:-/run/lvs-testbed}
NETNS_DIR=/run/netns   # where `ip netns add` puts its bind mounts

HOSTS=(client director director2 rs1 rs2 rs3)
REAL_SERVERS=(rs1 rs2 rs3)
declare -A HOST_IP=([client]=10.200.0.10 [director]=10.200.0.2 [director2]=10.200.0.3
                    [rs1]=10.200.0.11 [rs2]=10.200.0.12 [rs3]=10.200.0.13)
declare -A HOST_PORT=([client]=p-client [director]=p-dir [director2]=p-dir2
                      [rs1]=p-rs1 [rs2]=p-rs2 [rs3]=p-rs3)
VIP=10.200.0.100
PLEN=24
IFACE=eth0
HTTP_PORT=80
UDP_PORT=9000
PREFIX_RE='^[a-z0-9][a-z0-9-]{0,11}$'
# Parses a namespace name back into (prefix, host) for `list`.
NS_NAME_RE='^([a-z0-9][a-z0-9-]{0,11})(sw|client|director2|director|rs1|rs2|rs3)$'

# Bounds of the waits (iterations of 0.1 s).
READY_TRIES=50      # rs-server answering: ~5 s
TERM_TRIES=30       # after SIGTERM before SIGKILL: ~3 s
KILL_TRIES=20       # after SIGKILL: ~2 s

log() { echo "testbed: $*" >&2; }
die() { echo "testbed: error: $*" >&2; exit 1; }

usage() {
    sed -n '/^# Usage:/,/^# Everything/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

mac_of() {  # 10.200.0.11 -> 02:00:0a:c8:00:0b (the last octet in hex)
    printf '02:00:0a:c8:00:%02x' "${1##*.}"
}

check_prefix() {
    [[ $1 =~ $PREFIX_RE ]] || die "bad prefix '$1': 1-12 chars of [a-z0-9-], first one not '-'"
}

ns_exists() { [[ -e $NETNS_DIR/$1 ]]; }

# Debian's interpreter, not whatever a version manager put first on PATH: the bed
# must behave the same in CI and on a developer's machine.
pick_python() {
    if [[ -n ${LVS_TESTBED_PYTHON:-} ]]; then
        echo "$LVS_TESTBED_PYTHON"
    elif [[ -x /usr/bin/python3 ]]; then
        echo /usr/bin/python3
    else
        command -v python3 || die "python3 not found"
    fi
}

# ---------------------------------------------------------------- process bookkeeping

# Closes every descriptor above stderr that this shell inherited. Meant for the
# subshell that becomes a daemon: Foundation's Process (what the Swift tests use to run
# this script) hands its child one end of a socketpair and reports the child's exit
# only when every copy of that end is closed, so a daemon that inherits it makes
# Process.waitUntilExit() hang until the daemon dies. Any other inherited pipe would
# likewise keep a caller's read waiting.
close_inherited_fds() {
    local fd
    for fd in /proc/"$BASHPID"/fd/*; do
        fd=${fd##*/}
        # 255: where bash keeps the script it is reading.
        if ((fd > 2 && fd != 255)); then
            exec {fd}>&-
        fi
    done
}

# Field 22 of /proc/PID/stat: the start time in clock ticks since boot. Stored with the
# PID so that `down` never signals an unrelated process that reused the number.
start_time() {
    local stat
    # read, not $(<file): a failed redirection in $(<...) makes bash exit under set -e,
    # and the process may vanish at any moment.
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }          # drop "pid (comm) ", comm may contain spaces
    local -a fields
    read -r -a fields <<<"$stat"
    echo "${fields[19]}"       # fields[0] is field 3 (state)
}

is_alive() {  # running, not a zombie waiting for its parent
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

record_pid() {  # statedir name pid
    local start
    start=$(start_time "$3") || start=0
    echo "$3 $start" >"$1/$2.pid"
}

# Prints the PIDs to stop for a bed: the recorded ones that are still the same process,
# then any other process living in one of its namespaces (a crashed test's leftovers;
# they would otherwise keep a deleted namespace alive).
bed_pids() {
    local prefix=$1 statedir=$STATE_ROOT/$1 f pid start now host
    local -A seen=()
    if [[ -d $statedir ]]; then
        for f in "$statedir"/*.pid; do
            [[ -f $f ]] || continue
            read -r pid start _ <"$f" || true
            [[ $pid =~ ^[0-9]+$ ]] || continue
            is_alive "$pid" || continue
            now=$(start_time "$pid") || continue
            if [[ -n ${start:-} && $start != 0 && $start != "$now" ]]; then
                log "$(basename "$f"): PID $pid was reused by another process; leaving it alone"
                continue
            fi
            seen[$pid]=1
            echo "$pid"
        done
    fi
    for host in "${HOSTS[@]}" sw; do
        ns_exists "$prefix$host" || continue
        for pid in $(ip netns pids "$prefix$host" 2>/dev/null); do
            [[ -n ${seen[$pid]:-} || $pid == "$$" || $pid == "$BASHPID" ]] && continue
            seen[$pid]=1
            log "stopping unrecorded process $pid ($(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-60)) in $prefix$host"
            echo "$pid"
        done
    done
}

stop_pids() {  # TERM, bounded wait, KILL, bounded wait
    local -a pids=("$@") alive
    local pid i
    ((${#pids[@]})) || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < TERM_TRIES + KILL_TRIES; i++)); do
        alive=()
        for pid in "${pids[@]}"; do
            is_alive "$pid" && alive+=("$pid")
        done
        ((${#alive[@]})) || return 0
        if ((i == TERM_TRIES)); then
            log "SIGKILL to ${alive[*]} (no exit after SIGTERM)"
            kill -KILL "${alive[@]}" 2>/dev/null || true
        fi
        sleep 0.1
    done
    log "warning: still running after SIGKILL: ${alive[*]}"
}

# ---------------------------------------------------------------- commands

cmd_env() {
    local prefix=$1 host var
    check_prefix "$prefix"
    echo "PREFIX=$prefix"
    echo "STATEDIR=$STATE_ROOT/$prefix"
    echo "NS_SW=${prefix}sw"
    for host in "${HOSTS[@]}"; do
        var=${host^^}
        echo "NS_$var=$prefix$host"
        echo "${var}_IP=${HOST_IP[$host]}"
        echo "${var}_MAC=$(mac_of "${HOST_IP[$host]}")"
        echo "${var}_PORT=${HOST_PORT[$host]}"
    done
    echo "VIP=$VIP"
    echo "SUBNET=10.200.0.0/$PLEN"
    echo "IFACE=$IFACE"
    echo "HTTP_PORT=$HTTP_PORT"
    echo "UDP_PORT=$UDP_PORT"
}

cmd_list() {
    local -A found=()
    local d name
    if [[ -d $STATE_ROOT ]]; then
        for d in "$STATE_ROOT"/*/; do
            [[ -d $d ]] || continue
            name=$(basename "$d")
            [[ $name =~ $PREFIX_RE ]] && found[$name]=1
        done
    fi
    if [[ -d $NETNS_DIR ]]; then
        for d in "$NETNS_DIR"/*; do
            [[ -e $d ]] || continue
            name=$(basename "$d")
            [[ $name =~ $NS_NAME_RE ]] && found[${BASH_REMATCH[1]}]=1
        done
    fi
    ((${#found[@]})) || return 0
    printf '%s\n' "${!found[@]}" | sort
}

cmd_down() {
    local prefix=$1 host
    check_prefix "$prefix"
    local -a pids
    mapfile -t pids < <(bed_pids "$prefix")
    stop_pids "${pids[@]}"
    # Hosts first, the switch last: a bed is listed while any of its namespaces is left.
    for host in "${HOSTS[@]}" sw; do
        if ns_exists "$prefix$host"; then
            ip netns del "$prefix$host" || log "warning: could not delete namespace $prefix$host"
        fi
    done
    rm -rf "${STATE_ROOT:?}/$prefix"
    for host in "${HOSTS[@]}" sw; do
        ! ns_exists "$prefix$host" || die "namespace $prefix$host still exists"
    done
}

cmd_exec() {
    local prefix=$1 host=$2
    shift 2
    check_prefix "$prefix"
    case $host in
        client | director | director2 | rs1 | rs2 | rs3 | sw) ;;
        *) die "unknown host '$host' (client director director2 rs1 rs2 rs3 sw)" ;;
    esac
    (($#)) || die "exec: no command"
    ns_exists "$prefix$host" || die "no namespace $prefix$host"
    exec ip netns exec "$prefix$host" "$@"
}

cmd_track() {
    local prefix=$1 name=$2 pid=$3
    check_prefix "$prefix"
    [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad name '$name'"
    if ! [[ $pid =~ ^[0-9]+$ ]] || ! is_alive "$pid"; then
        die "no running process $pid"
    fi
    [[ -d $STATE_ROOT/$prefix ]] || die "no test bed $prefix"
    record_pid "$STATE_ROOT/$prefix" "$name" "$pid"
}

# Settings every namespace gets, before any interface exists in it, so interfaces
# created later inherit the "default" values.
ns_base() {
    local ns=$1
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    local -a s=(
        net.ipv4.ip_forward=0
        # Explicit because IPv4 devconf may be inherited from the root namespace.
        net.ipv4.conf.all.rp_filter=0
        net.ipv4.conf.default.rp_filter=0
        net.ipv4.conf.lo.rp_filter=0
    )
    # No DAD/MLD/router-solicitation chatter in the counts (skipped if the kernel
    # runs without IPv6 at all).
    if [[ -d /proc/sys/net/ipv6 ]]; then
        s+=(net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1)
    fi
    ip netns exec "$ns" sysctl -q -w "${s[@]}" >/dev/null
}

# Starts rs-server.py on one real server (appending to its log) and records its PID.
start_server() {  # prefix host python
    local prefix=$1 host=$2 python=$3 statedir=$STATE_ROOT/$1
    (
        close_inherited_fds
        exec ip netns exec "$prefix$host" "$python" "$SCRIPT_DIR/rs-server.py" \
            --name "$host" --vip "$VIP" --http-port "$HTTP_PORT" --udp-port "$UDP_PORT" \
            --status-file "$statedir/$host.status"
    ) </dev/null >>"$statedir/$host.log" 2>&1 &
    record_pid "$statedir" "$host" "$!"
}

check_real_server() {
    case $1 in
        rs1 | rs2 | rs3) ;;
        *) die "unknown real server '$1' (rs1 rs2 rs3)" ;;
    esac
}

# Stops one real server's rs-server.py (health-check tests take a server down this way).
cmd_stop_server() {
    local prefix=$1 host=$2 pid start now
    check_prefix "$prefix"
    check_real_server "$host"
    local f=$STATE_ROOT/$prefix/$host.pid
    [[ -f $f ]] || die "no server recorded for $host in $prefix"
    read -r pid start _ <"$f" || true
    if [[ $pid =~ ^[0-9]+$ ]] && is_alive "$pid"; then
        now=$(start_time "$pid") || now=
        if [[ -z ${start:-} || $start == 0 || $start == "$now" ]]; then
            stop_pids "$pid"
        fi
    fi
    rm -f "$f"
}

# Starts it again and waits (bounded) until it answers on its own address.
cmd_start_server() {
    local prefix=$1 host=$2 i body
    check_prefix "$prefix"
    check_real_server "$host"
    [[ -d $STATE_ROOT/$prefix ]] || die "no test bed $prefix"
    ns_exists "$prefix$host" || die "no namespace $prefix$host"
    start_server "$prefix" "$host" "$(pick_python)"
    for ((i = 0; i < READY_TRIES; i++)); do
        body=$(ip netns exec "$prefix$host" curl -s --max-time 0.5 "http://${HOST_IP[$host]}:$HTTP_PORT/" 2>/dev/null) || true
        [[ $body == "$host" ]] && return 0
        sleep 0.1
    done
    die "rs-server $host did not answer within ~$((READY_TRIES / 10)) s"
}

UP_PREFIX=
UP_DONE=0
up_exit() {
    local rc=$?
    # Cleanup must finish even if our caller stopped reading stderr (SIGPIPE) or a
    # single step fails.
    set +e
    trap '' PIPE
    if ((!UP_DONE)) && [[ -n $UP_PREFIX ]]; then
        log "up failed (status $rc); tearing down $UP_PREFIX"
        local statedir=$STATE_ROOT/$UP_PREFIX f
        for f in "$statedir"/*.log; do
            [[ -f $f ]] || continue
            echo "--- $(basename "$f"):" >&2
            tail -n 20 "$f" >&2
        done
        cmd_down "$UP_PREFIX" || true
        # Reap the servers we started (they are our children) so no zombie stays.
        wait 2>/dev/null || true
    fi
    exit "$rc"
}

# Creates the state dir atomically: a prefix is ours once mkdir succeeded, which also
# keeps two parallel `up`s from picking the same random prefix.
claim_prefix() {
    local prefix=$1 host
    for host in "${HOSTS[@]}" sw; do
        ns_exists "$prefix$host" && return 1
    done
    mkdir "$STATE_ROOT/$prefix" 2>/dev/null
}

cmd_up() {
    local prefix=${1:-} i
    ((EUID == 0)) || die "must run as root (network namespaces)"
    RS_SETUP=${LVS_TESTBED_RS_SETUP:-dr}
    [[ $RS_SETUP == dr || $RS_SETUP == none ]] || die "LVS_TESTBED_RS_SETUP must be dr or none, not '$RS_SETUP'"
    mkdir -p "$STATE_ROOT"
    if [[ -n $prefix ]]; then
        check_prefix "$prefix"
        claim_prefix "$prefix" || die "test bed '$prefix' already exists (testbed.sh down $prefix)"
    else
        for ((i = 0; i < 20; i++)); do
            prefix="lvs-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')-"
            claim_prefix "$prefix" && break
            prefix=
        done
        [[ -n $prefix ]] || die "no free random prefix after 20 tries"
    fi

    UP_PREFIX=$prefix
    trap up_exit EXIT
    # Who made this bed: lets scripts/test.sh find the beds its tests left behind
    # without touching a bed someone else is using on the same machine.
    echo "${LVS_TESTBED_OWNER:-none}" >"$STATE_ROOT/$prefix/owner"
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local statedir=$STATE_ROOT/$prefix sw=${prefix}sw host ns ip mac port
    local python
    python=$(pick_python)

    # The switch. STP off and forward_delay 0 so ports forward at once; no multicast
    # snooping; nf_call_* 0 because br_netfilter is built in and would otherwise push
    # bridged frames through iptables (TESTBED.md gotcha 6).
    ns_base "$sw"
    ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 \
        nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0
    ip -n "$sw" link set br0 up
    # The per-bridge options alone are not enough: br_netfilter runs its hooks when either
    # the bridge option or the namespace's bridge-nf-call-* sysctl (default 1 in a new
    # namespace) is on, and its IPv4 sanity checks then drop malformed frames on the
    # switch before the director can see (and count) them.
    local knob
    for knob in iptables ip6tables arptables; do
        ip netns exec "$sw" sysctl -qw "net.bridge.bridge-nf-call-$knob=0"
    done

    for host in "${HOSTS[@]}"; do
        ns=$prefix$host ip=${HOST_IP[$host]} port=${HOST_PORT[$host]}
        mac=$(mac_of "$ip")
        ns_base "$ns"
        # Created from inside the switch namespace with the peer straight in the host
        # namespace: nothing ever appears in the root namespace, even for a moment.
        ip -n "$sw" link add "$port" type veth peer name "$IFACE" netns "$ns"
        ip -n "$sw" link set "$port" master br0 up
        ip -n "$ns" link set "$IFACE" address "$mac" up
        ip -n "$ns" addr add "$ip/$PLEN" dev "$IFACE"
        ip netns exec "$ns" sysctl -q -w "net.ipv4.conf.$IFACE.rp_filter=0" >/dev/null
        # Static FDB: a real server that never transmits (UDP floods) would otherwise
        # age out after 300 s and every frame would be flooded (TESTBED.md gotcha 5).
        bridge -n "$sw" fdb replace "$mac" dev "$port" master static
        # Offloads stay at the veth defaults on purpose: tests depend on TSO and
        # checksum offload being on (TESTBED.md gotchas 7 and 8).
    done

    # Director: an ordinary host on the segment. No VIP (lvsd answers ARP for it) and no
    # IP forwarding (the kernel must stay silent about VIP frames: gotcha 10).
    for host in director director2; do
        ip netns exec "$prefix$host" sysctl -q -w net.ipv4.ip_forward=0 \
            net.ipv4.conf.all.forwarding=0 "net.ipv4.conf.$IFACE.forwarding=0" >/dev/null
    done

    # Real servers: the VIP on lo, and the ARP settings that keep them from answering
    # or advertising it on the segment (the classic LVS-DR real-server setup). With
    # LVS_TESTBED_RS_SETUP=none they stay bare, with the kernel's defaults set explicitly
    # (IPv4 devconf may be inherited from the root namespace), for lvs-realserver to set up.
    for host in "${REAL_SERVERS[@]}"; do
        ns=$prefix$host
        case $RS_SETUP in
            dr)
                ip -n "$ns" addr add "$VIP/32" dev lo label lo:0
                ip netns exec "$ns" sysctl -q -w \
                    net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
                    "net.ipv4.conf.$IFACE.arp_ignore=1" "net.ipv4.conf.$IFACE.arp_announce=2" >/dev/null
                ;;
            none)
                ip netns exec "$ns" sysctl -q -w \
                    net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0 \
                    "net.ipv4.conf.$IFACE.arp_ignore=0" "net.ipv4.conf.$IFACE.arp_announce=0" >/dev/null
                ;;
        esac
    done

    # Start the servers. The subshell only drops inherited descriptors and then execs
    # `ip netns exec`, which execs python: $! is the server's own PID (the trap of
    # TESTBED.md gotcha 4 is a subshell that stays around, this one does not).
    # stdin/out/err are redirected so the servers never hold our caller's pipes open.
    for host in "${REAL_SERVERS[@]}"; do
        start_server "$prefix" "$host" "$python"
    done

    # Bounded wait until each server answers on its own IP, asked from the client, so
    # a bed that is returned has also shown its L2 path works.
    local -A ready=()
    local body pid deadline
    deadline=$(( ${EPOCHREALTIME/./} + READY_TRIES * 100000 ))  # microseconds
    for ((i = 0; i < READY_TRIES && ${#ready[@]} < ${#REAL_SERVERS[@]}; i++)); do
        (( ${EPOCHREALTIME/./} < deadline )) || break
        for host in "${REAL_SERVERS[@]}"; do
            [[ -n ${ready[$host]:-} ]] && continue
            read -r pid _ <"$statedir/$host.pid"
            is_alive "$pid" || die "rs-server $host (PID $pid) exited"
            body=$(ip netns exec "${prefix}client" curl -s --max-time 0.5 \
                "http://${HOST_IP[$host]}:$HTTP_PORT/" 2>/dev/null) || true
            [[ $body == "$host" ]] && ready[$host]=1
        done
        ((${#ready[@]} == ${#REAL_SERVERS[@]})) || sleep 0.1
    done
    for host in "${REAL_SERVERS[@]}"; do
        [[ -n ${ready[$host]:-} ]] || die "rs-server $host did not answer on ${HOST_IP[$host]} within ~$((READY_TRIES / 10)) s"
    done

    cmd_env "$prefix" >"$statedir/env"
    UP_DONE=1
    trap - EXIT INT TERM
    log "up: $prefix (client ${HOST_IP[client]}, directors ${HOST_IP[director]} ${HOST_IP[director2]}, rs1-3 ${HOST_IP[rs1]}-${HOST_IP[rs3]##*.}, VIP $VIP; state $statedir)"
    echo "$prefix"
}

main() {
    (($#)) || usage
    local cmd=$1
    shift
    case $cmd in
        up) (($# <= 1)) || usage; cmd_up "${1:-}" ;;
        down) (($# == 1)) || usage; ((EUID == 0)) || die "must run as root"; cmd_down "$1" ;;
        env) (($# == 1)) || usage; cmd_env "$1" ;;
        list) (($# == 0)) || usage; cmd_list ;;
        exec) (($# >= 3)) || usage; cmd_exec "$@" ;;
        track) (($# == 3)) || usage; cmd_track "$@" ;;
        stop-server) (($# == 2)) || usage; ((EUID == 0)) || die "must run as root"; cmd_stop_server "$@" ;;
        start-server) (($# == 2)) || usage; ((EUID == 0)) || die "must run as root"; cmd_start_server "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
