#!/usr/bin/env bash
# Installs what building and testing vm-dhcp needs, and nothing that is already there:
# pnpm (the version pinned in package.json), the workspace's npm packages, and, when run as
# root on Debian, the DHCP clients and capture tools the network tests drive.
set -euo pipefail
cd "$(dirname "$0")/.."

pinned_pnpm=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$pinned_pnpm" ]; then
  echo "bootstrap: installing pnpm $pinned_pnpm"
  npm install --global --silent "pnpm@$pinned_pnpm"
fi

# Debian packages used by the tests: real DHCP clients, capture tools, iproute2 for namespaces,
# perfdhcp (kea-admin) as a DHCP relay.
debian_packages=(iproute2 tcpdump tshark isc-dhcp-client udhcpc dhcpcd openssl kea-admin)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "bootstrap: not root or no apt-get; network tests skip unless ${debian_packages[*]} are present"
fi

pnpm install --frozen-lockfile --reporter=silent
