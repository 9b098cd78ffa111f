#!/usr/bin/env bash
# The main job, runnable from a fresh clone: builds the single-file vm-dhcp binary and
# decodes DHCP packets that real clients (dhclient, udhcpc, dhcpcd) sent on a wire.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh >/dev/null
pnpm run --silent build >/dev/null
for packet in packages/dhcp-codec/test/fixtures/*-discover.bin packages/dhcp-codec/test/fixtures/*-request.bin; do
  echo "== $packet"
  node dist/vm-dhcp.mjs decode "$packet"
done
