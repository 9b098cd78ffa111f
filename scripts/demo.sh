#!/usr/bin/env bash
# The main job, in one command from a fresh clone (as root, for network namespaces):
#
#   scripts/demo.sh
#
# installs what it needs, builds vm-dhcp, starts a local Kubernetes API server (kube-apiserver
# and etcd on 127.0.0.1, no nodes), installs the chart's CRDs, runs the webhook, the
# controller and a DHCP agent (the agent in its own network namespace, as in its pod),
# creates an IPPool and a KubeVirt VirtualMachine, lets a real DHCP client (ISC dhclient) on
# the VM's NIC ask for an address, and prints the lease, the pool status and the metrics.
# Everything it made is removed at the end, also on failure or Ctrl-C.
#
# Traffic stays inside the two namespaces it creates (192.0.2.0/24, a documentation range)
# and on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

SRV_NS=vd-pkg-demo-srv   # the agent pod's network namespace
VM_NS=vd-pkg-demo-vm     # stands in for the VM's NIC
SRV_IF=vd-pkg-d-srv      # the agent pod's eth1
VM_IF=vd-pkg-d-vm        # the VM's NIC
MAC=52:54:00:d3:30:01
SERVER_IP=192.0.2.2
AGENT_HTTP_PORT=8080     # inside the agent's namespace, as in its pod

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "needs root: it creates network namespaces and veth pairs"
[[ "$(uname -s)" == Linux ]] || die "needs Linux network namespaces"

work="$(mktemp -d /tmp/vm-dhcp-demo.XXXXXX)"
chmod 755 "$work"
pids=()

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  step "cleaning up"
  if [[ -f "$work/dhclient.pid" ]]; then
    # Releases the lease (DHCPRELEASE) and stops the client.
    ip netns exec "$VM_NS" dhclient -r -cf "$work/dhclient.conf" -sf "$work/hook.sh" \
      -lf "$work/dhclient.leases" -pf "$work/dhclient.pid" "$VM_IF" >/dev/null 2>&1 || true
    note "dhclient released its lease"
  fi
  # Newest first: agent and controller before the API server they talk to.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  ip netns del "$SRV_NS" 2>/dev/null || true
  ip netns del "$VM_NS" 2>/dev/null || true
  if [[ $code != 0 ]]; then
    note "failed (exit $code); logs:"
    for log in "$work"/*.log; do [[ -f $log ]] && { echo "--- $log"; tail -n 15 "$log"; }; done
  fi
  rm -rf "$work"
  note "processes stopped, namespaces $SRV_NS and $VM_NS deleted, $work removed"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls "$@" every 0.2 s for up to $timeout seconds (default 60).
wait_for() {
  local what=$1 deadline=$((SECONDS + ${timeout:-60}))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out waiting for $what"
    sleep 0.2
  done
}

# Starts "$@" in the background with output to $work/<name>.log; remembers its pid.
start() {
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
}

json() { node -e "process.stdout.write(String(require('$work/cluster.json').$1))"; }
# GET <url>, body to stdout; fails on anything but 200.
http_get() {
  node -e 'fetch(process.argv[1]).then(async (r) => {
    if (r.status !== 200) process.exit(1);
    process.stdout.write(await r.text());
  }, () => process.exit(1))' "$1"
}
# Pretty-prints the JSON on stdin.
pretty() {
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d))
    .on("end", () => console.log(JSON.stringify(JSON.parse(s), null, 2)))'
}
# A TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); })'
}
vm_dhcp() { node "$repo/dist/vm-dhcp.mjs" "$@"; }

step "installing tools and building vm-dhcp"
scripts/bootstrap.sh >/dev/null
command -v kubectl >/dev/null || die "kubectl is not installed"
command -v dhclient >/dev/null || die "dhclient (isc-dhcp-client) is not installed"
pnpm run --silent build >/dev/null
note "bundle: dist/vm-dhcp.mjs ($(du -k dist/vm-dhcp.mjs | cut -f1) KiB), $(vm_dhcp --version)"
scripts/test-cluster/build.sh | sed 's/^/   /'

step "starting a local Kubernetes API server"
start cluster node --import tsx scripts/demo/cluster.ts "$work/cluster.json"
timeout=300 wait_for "the API server (see $work/cluster.log)" test -s "$work/cluster.json"
admin="$(json kubeconfigs.admin)"
api_port="$(json server | sed 's/.*://')"
k() { kubectl --kubeconfig "$admin" "$@"; }
note "kube-apiserver at $(json server), identities: admin, controller, agent, webhook"

step "installing the chart's CRDs (deploy/charts/vm-dhcp/crds)"
k apply --server-side --field-manager=vm-dhcp-demo -f deploy/charts/vm-dhcp/crds/ | sed 's/^/   /'

step "webhook (validates and defaults IPPools and vmnetcfgs; registers itself)"
webhook_https="$(free_port)"
webhook_http="$(free_port)"
start webhook env VM_DHCP_LOG_FORMAT=text node dist/vm-dhcp.mjs webhook \
  --kubeconfig="$(json kubeconfigs.webhook)" --bind-address=127.0.0.1 \
  --https-port="$webhook_https" --http-port="$webhook_http" \
  --webhook-url="https://127.0.0.1:$webhook_https"
wait_for "webhook /readyz" http_get "http://127.0.0.1:$webhook_http/readyz"
k get validatingwebhookconfigurations,mutatingwebhookconfigurations | sed 's/^/   /'

step "the VM network: namespaces $SRV_NS (agent) and $VM_NS (VM), one veth pair"
ip netns add "$SRV_NS"
ip netns add "$VM_NS"
ip link add "$SRV_IF" type veth peer name "$VM_IF"
ip link set "$SRV_IF" netns "$SRV_NS"
ip link set "$VM_IF" netns "$VM_NS"
ip -n "$SRV_NS" link set lo up
ip -n "$SRV_NS" link set "$SRV_IF" up
ip -n "$VM_NS" link set lo up
ip -n "$VM_NS" link set "$VM_IF" address "$MAC" up
# What the agent pod's init step does on eth1 (needs NET_ADMIN).
ip -n "$SRV_NS" address add "$SERVER_IP/24" dev "$SRV_IF"
note "agent side $SRV_IF $SERVER_IP/24; VM NIC $VM_IF $MAC, no address yet"

# The agent's kubeconfig names https://127.0.0.1:<port>: inside its namespace that port is a
# forwarder, joined to the host's API server through a unix socket.
start forward-host node scripts/demo/forward.mjs "unix:$work/api.sock" "tcp:127.0.0.1:$api_port"
wait_for "the host forwarder" test -S "$work/api.sock"
start forward-ns ip netns exec "$SRV_NS" \
  node scripts/demo/forward.mjs "tcp:127.0.0.1:$api_port" "unix:$work/api.sock"
wait_for "the namespace forwarder" grep -q forwarding "$work/forward-ns.log"

step "the objects: a NetworkAttachmentDefinition, an IPPool and a VirtualMachine"
cat >"$work/objects.yaml" <<EOF
apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata:
  name: demo-net
  namespace: default
  labels:
    network.harvesterhci.io/clusternetwork: demo
spec:
  config: '{"cniVersion":"0.3.1","type":"bridge","bridge":"demo-br"}'
---
apiVersion: network.harvesterhci.io/v1alpha1
kind: IPPool
metadata:
  name: demo-pool
  namespace: default
spec:
  networkName: default/demo-net
  ipv4Config:
    cidr: 192.0.2.0/24
    serverIP: $SERVER_IP
    router: 192.0.2.1
    pool:
      start: 192.0.2.10
      end: 192.0.2.50
      exclude: [192.0.2.10]
    dns: [192.0.2.53]
    domainName: demo.example
    domainSearch: [demo.example]
    leaseTime: 600
---
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: demo-vm
  namespace: default
spec:
  runStrategy: Halted
  template:
    spec:
      domain:
        devices:
          interfaces:
            - name: nic-1
              bridge: {}
              macAddress: $MAC
      networks:
        - name: nic-1
          multus:
            networkName: demo-net
EOF
sed -n '/^kind: IPPool/,/^---/p' "$work/objects.yaml" | sed '$d' | sed 's/^/   /'
k apply -f "$work/objects.yaml" | sed 's/^/   /'

step "admission at work: a second pool for the same network, its router outside its CIDR"
bad_pool='{"apiVersion":"network.harvesterhci.io/v1alpha1","kind":"IPPool",
  "metadata":{"name":"bad-pool","namespace":"default"},
  "spec":{"networkName":"default/demo-net","ipv4Config":{"cidr":"198.51.100.0/24",
  "serverIP":"198.51.100.2","router":"203.0.113.1"}}}'
if k apply -f - <<<"$bad_pool" >"$work/bad-pool.out" 2>&1; then
  die "the webhook accepted a second pool for default/demo-net"
fi
sed 's/^/   /' "$work/bad-pool.out"

step "controller (as the vm-dhcp-controller service account; --no-agent: the demo runs it)"
controller_port="$(free_port)"
start controller env VM_DHCP_LOG_FORMAT=text node dist/vm-dhcp.mjs controller \
  --kubeconfig="$(json kubeconfigs.controller)" --namespace=harvester-system --no-agent \
  --http-port="$controller_port" --enable-cache-dump-api
vmnetcfg_state() {
  [[ "$(k get vmnetcfg demo-vm -n default \
    -o jsonpath='{.status.networkConfigs[0].state}' 2>/dev/null)" == Allocated ]]
}
wait_for "the VM's address allocation" vmnetcfg_state
note "vmnetcfg default/demo-vm made from the VM, and its MAC allocated:"
k get vmnetcfg -n default | sed 's/^/   /'

step "agent (the DHCP server of default/demo-pool, inside $SRV_NS)"
start agent ip netns exec "$SRV_NS" env VM_DHCP_LOG_FORMAT=text \
  node dist/vm-dhcp.mjs agent --ippool-ref=default/demo-pool --nic="$SRV_IF" \
  --kubeconfig="$(json kubeconfigs.agent)" --http-port="$AGENT_HTTP_PORT" --enable-cache-dump-api
agent_get() {
  local url="http://127.0.0.1:$AGENT_HTTP_PORT$1"
  ip netns exec "$SRV_NS" bash -c "$(declare -f http_get); http_get $url"
}
wait_for "agent /readyz" agent_get /readyz
note "ready: $(agent_get /readyz)"

step "the VM asks for an address: dhclient on $VM_IF"
cat >"$work/dhclient.conf" <<'EOF'
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers,
  domain-search, host-name, interface-mtu, ntp-servers;
EOF
# A private hook: records what the server sent and sets the address in the VM namespace only
# (never the host's resolv.conf or routes).
cat >"$work/hook.sh" <<EOF
#!/bin/sh
case "\$reason" in
  PREINIT) ip link set dev "\$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    ip addr replace "\$new_ip_address/\$new_subnet_mask" dev "\$interface"
    env | grep '^new_' | sort > "$work/lease.env" ;;
  EXPIRE|FAIL|RELEASE|STOP) ip addr flush dev "\$interface" ;;
esac
exit 0
EOF
chmod 755 "$work/hook.sh"
timeout 60 ip netns exec "$VM_NS" dhclient -1 -4 -v -cf "$work/dhclient.conf" \
  -sf "$work/hook.sh" -lf "$work/dhclient.leases" -pf "$work/dhclient.pid" "$VM_IF" \
  >"$work/dhclient.log" 2>&1 || die "dhclient got no lease"
grep -E 'DHCP(DISCOVER|OFFER|REQUEST|ACK)|bound to' "$work/dhclient.log" | sed 's/^/   /'
note ""
note "the lease:"
sed 's/^new_/     /' "$work/lease.env"
note "$VM_IF in $VM_NS: $(ip -n "$VM_NS" -4 -brief address show dev "$VM_IF" | awk '{print $3}')"

step "the pool status"
k get ippool demo-pool -n default | sed 's/^/   /'
k get ippool demo-pool -n default -o jsonpath='{.status.ipv4}' | pretty | sed 's/^/   /'

step "metrics"
note "controller /metrics:"
http_get "http://127.0.0.1:$controller_port/metrics" \
  | grep -E '^vmdhcpcontroller_(ippool_(used|available)|vmnetcfg_status)' | sed 's/^/     /'
note "agent /metrics:"
agent_get /metrics | grep -E '^vmdhcpagent_(packets_(received|sent)_total|leases)' \
  | sed 's/^/     /'
note "agent /leases:"
agent_get /leases | pretty | sed 's/^/     /'
note ""
note "the agent's log:"
grep -vE '^\s*$' "$work/agent.log" | tail -n 6 | sed 's/^/     /'
