#!/usr/bin/env bash
# Starts a throwaway kube-apiserver + etcd with the vm-dhcp CRDs and base RBAC installed,
# prints a kubeconfig per identity (admin, controller, agent, webhook) and waits for Ctrl-C.
# Builds the binaries first if needed (scripts/test-cluster/build.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec pnpm exec tsx packages/core/test/cluster/cli.ts "$@"
