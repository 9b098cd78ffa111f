#!/usr/bin/env bash
# Captures golden DHCPv4 packets from real Debian clients (dhclient, udhcpc, dhcpcd) for the
# codec's fixture tests. Everything happens inside two network namespaces created here and
# joined by one veth pair; nothing is sent on the host's own interfaces.
#
#   sudo scripts/capture-fixtures.sh
#
# Each client runs in turn in the client namespace with its own fixed MAC. A throwaway
# responder (packages/dhcp-codec/test/tools/offer-responder.py) in the server namespace
# answers DISCOVER with OFFER and REQUEST with ACK, so every client sends both messages.
# tcpdump records each exchange; the first DISCOVER and first REQUEST of each client are
# written as raw UDP payloads next to the pcap files, with a manifest of what tshark sees.
#
# Idempotent: leftovers of an interrupted run are removed first, and every namespace,
# process and temp file created here is removed on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEST_DIR="$ROOT/packages/dhcp-codec/test"
OUT="$TEST_DIR/fixtures"
RESPONDER="$TEST_DIR/tools/offer-responder.py"
DESCRIBER="$TEST_DIR/tools/extract-fixtures.py"

SRV_NS="vmdhcp-fx-srv"
CLI_NS="vmdhcp-fx-cli"
SRV_IF="fx-srv0"
CLI_IF="fx-cli0"
SERVER_CIDR="192.0.2.1/24"
SERVER_IP="${SERVER_CIDR%/*}"
CLIENT_WAIT_SECONDS=20

# Fixed, locally administered MACs: one per client so the fixtures tell them apart.
declare -A CLIENT_MAC=(
  [dhclient]="02:00:5e:d1:00:01"
  [udhcpc]="02:00:5e:d1:00:02"
  [dhcpcd]="02:00:5e:d1:00:03"
)
CLIENTS=(dhclient udhcpc dhcpcd)

WORK=""
PIDS=()
CREATED_RUN_DHCPCD=0

log() { printf '[capture-fixtures] %s\n' "$*" >&2; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  # Anything still running inside our own namespaces was started by this script.
  local ns
  for ns in "$CLI_NS" "$SRV_NS"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill "$pid" 2>/dev/null || true
    done
  done
  ip netns del "$CLI_NS" 2>/dev/null || true
  ip netns del "$SRV_NS" 2>/dev/null || true
  if [[ -n "$WORK" && -z "${KEEP_WORK:-}" ]]; then rm -rf "$WORK"; fi
  # The tmpfs mounts of dhcpcd need an existing mount point; remove it if it was ours.
  if ((CREATED_RUN_DHCPCD)); then rmdir /run/dhcpcd 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_tools() {
  local missing=() pkg
  command -v tcpdump >/dev/null || missing+=(tcpdump)
  command -v tshark >/dev/null || missing+=(tshark)
  command -v dhclient >/dev/null || missing+=(isc-dhcp-client)
  command -v udhcpc >/dev/null || missing+=(udhcpc)
  command -v dhcpcd >/dev/null || missing+=(dhcpcd-base)
  command -v python3 >/dev/null || missing+=(python3)
  if ((${#missing[@]} > 0)); then
    log "installing missing packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  for pkg in ip unshare timeout; do
    command -v "$pkg" >/dev/null || { log "missing $pkg"; exit 1; }
  done
  if [[ $EUID -ne 0 ]]; then
    log "must run as root (network namespaces)"
    exit 1
  fi
}

setup_network() {
  ip netns del "$CLI_NS" 2>/dev/null || true
  ip netns del "$SRV_NS" 2>/dev/null || true
  ip netns add "$SRV_NS"
  ip netns add "$CLI_NS"
  # Both ends are created directly inside the namespaces: no veth ever exists on the host.
  ip -n "$SRV_NS" link add "$SRV_IF" type veth peer name "$CLI_IF" netns "$CLI_NS"
  ip -n "$SRV_NS" link set lo up
  ip -n "$CLI_NS" link set lo up
  ip -n "$SRV_NS" addr add "$SERVER_CIDR" dev "$SRV_IF"
  ip -n "$SRV_NS" link set "$SRV_IF" up
}

wait_for_line() {
  local file="$1" pattern="$2" seconds="$3" i
  for ((i = 0; i < seconds * 10; i++)); do
    if grep -q -- "$pattern" "$file" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

start_responder() {
  : >"$WORK/responder.log"
  ip netns exec "$SRV_NS" python3 "$RESPONDER" "$SRV_IF" "$SERVER_IP" "$WORK/responder.log" \
    2>"$WORK/responder.err" &
  PIDS+=($!)
  wait_for_line "$WORK/responder.log" READY 10 || { cat "$WORK/responder.err" >&2; exit 1; }
}

reset_client_link() {
  local mac="$1"
  ip -n "$CLI_NS" addr flush dev "$CLI_IF"
  ip -n "$CLI_NS" link set "$CLI_IF" down
  ip -n "$CLI_NS" link set "$CLI_IF" address "$mac"
  ip -n "$CLI_NS" link set "$CLI_IF" up
}

# Runs one client in the client namespace, in its own UTS namespace with hostname
# "vm-<client>", so the host-name option is the same on every machine.
client_command() {
  local client="$1" hook="$WORK/noop-hook.sh"
  case "$client" in
    dhclient)
      # Debian's default /etc/dhcp/dhclient.conf: sends host-name, requests its usual list.
      echo "exec dhclient -d -1 -sf $hook -lf $WORK/dhclient.leases -pf $WORK/dhclient.pid $CLI_IF"
      ;;
    udhcpc)
      echo "exec udhcpc -f -n -q -t 3 -T 1 -i $CLI_IF -s $hook -x hostname:vm-udhcpc"
      ;;
    dhcpcd)
      # dhcpcd writes its DUID, leases and sockets under these folders: tmpfs keeps them
      # away from the host and gives every run a fresh state.
      echo "mount -t tmpfs tmpfs /var/lib/dhcpcd && mount -t tmpfs tmpfs /run/dhcpcd &&" \
        "exec dhcpcd -B -1 -4 -A -L --nodelay -t 15 -c $hook $CLI_IF"
      ;;
  esac
}

capture_client() {
  local client="$1" mac="${CLIENT_MAC[$1]}" pcap="$WORK/$1.pcap" dump_pid client_pid
  log "capturing $client as $mac"
  reset_client_link "$mac"

  # --immediate-mode: without it, packets still in the capture ring when tcpdump is
  # stopped are counted as received but never written.
  ip netns exec "$SRV_NS" tcpdump -i "$SRV_IF" -n -U --immediate-mode -w "$pcap" \
    'udp port 67 or udp port 68' 2>"$WORK/$client.tcpdump.err" &
  dump_pid=$!
  PIDS+=("$dump_pid")
  if ! wait_for_line "$WORK/$client.tcpdump.err" "listening on" 10; then
    log "tcpdump did not start:"
    cat "$WORK/$client.tcpdump.err" >&2
    exit 1
  fi

  ip netns exec "$CLI_NS" unshare --uts --mount sh -c \
    "hostname vm-$client && $(client_command "$client")" \
    >"$WORK/$client.out" 2>&1 &
  client_pid=$!
  PIDS+=("$client_pid")

  if ! wait_for_line "$WORK/responder.log" "^ACK $mac" "$CLIENT_WAIT_SECONDS"; then
    log "$client got no ACK; its output:"
    cat "$WORK/$client.out" >&2
    exit 1
  fi
  sleep 0.5
  kill "$client_pid" 2>/dev/null || true
  wait "$client_pid" 2>/dev/null || true
  kill -INT "$dump_pid"
  wait "$dump_pid" 2>/dev/null || true
  ip -n "$CLI_NS" addr flush dev "$CLI_IF"
}

record_versions() {
  {
    echo "captured_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel=$(uname -r)"
    echo "dhclient=$(dhclient --version 2>&1 | head -n1)"
    echo "udhcpc=$(busybox 2>&1 | head -n1 | sed 's/ multi-call binary\.//')"
    echo "dhcpcd=$(dhcpcd --version | head -n1)"
    echo "tcpdump=$(tcpdump --version 2>&1 | head -n1)"
    echo "tshark=$(tshark --version 2>/dev/null | head -n1)"
    local pkg
    for pkg in isc-dhcp-client udhcpc busybox dhcpcd-base tcpdump tshark; do
      echo "deb:$pkg=$(dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null || echo absent)"
    done
  } >"$WORK/versions.txt"
}

main() {
  require_tools
  WORK="$(mktemp -d /tmp/vmdhcp-fixtures.XXXXXX)"
  printf '#!/bin/sh\n# No-op client hook: never touches the host configuration.\nexit 0\n' \
    >"$WORK/noop-hook.sh"
  chmod 0755 "$WORK/noop-hook.sh"

  if [[ ! -d /run/dhcpcd ]]; then
    mkdir /run/dhcpcd
    CREATED_RUN_DHCPCD=1
  fi
  setup_network
  start_responder
  local client
  for client in "${CLIENTS[@]}"; do
    capture_client "$client"
  done
  record_versions

  mkdir -p "$OUT"
  local specs=()
  for client in "${CLIENTS[@]}"; do
    cp "$WORK/$client.pcap" "$OUT/$client.pcap"
    specs+=("$client=${CLIENT_MAC[$client]}")
  done
  cp "$WORK/versions.txt" "$OUT/versions.txt"
  python3 "$DESCRIBER" "$OUT" "${specs[@]}"
  log "fixtures written to $OUT"
}

main "$@"
