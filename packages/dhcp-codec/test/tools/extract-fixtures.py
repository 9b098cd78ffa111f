#!/usr/bin/env python3
"""Cuts fixture payloads out of the capture pcaps and records what tshark sees in them.

Used by scripts/capture-fixtures.sh:

    extract-fixtures.py FIXTURE_DIR CLIENT=MAC [CLIENT=MAC ...]

For each client it reads FIXTURE_DIR/CLIENT.pcap, takes the first DISCOVER and the first
REQUEST sent from MAC, writes their UDP payloads to CLIENT-discover.bin and
CLIENT-request.bin, and writes FIXTURE_DIR/manifest.json with tshark's reading of every
field the fixture tests check. The tests compare the codec against this manifest, so
tshark (a second, independent DHCP implementation) is needed only when capturing.
"""

import json
import subprocess
import sys
from pathlib import Path

KINDS = (("discover", 1), ("request", 3))

# tshark field -> manifest key; lists are comma-joined by tshark (aggregator below).
FIELDS = [
    ("frame.number", "frame"),
    ("udp.payload", "payload"),
    ("dhcp.id", "xid"),
    ("dhcp.hw.mac_addr", "mac"),
    ("dhcp.flags", "flags"),
    ("dhcp.secs", "secs"),
    ("dhcp.ip.client", "ciaddr"),
    ("dhcp.option.dhcp", "messageType"),
    ("dhcp.option.type", "optionCodes"),
    ("dhcp.option.value", "optionValues"),
    ("dhcp.option.request_list_item", "parameterRequestList"),
    ("dhcp.option.requested_ip_address", "requestedIpAddress"),
    ("dhcp.option.dhcp_server_id", "serverIdentifier"),
    ("dhcp.option.hostname", "hostName"),
    ("dhcp.option.vendor_class_id", "vendorClassIdentifier"),
    ("dhcp.option.dhcp_max_message_size", "maxMessageSize"),
]
INT_KEYS = {"frame", "flags", "secs", "messageType", "maxMessageSize"}
LIST_KEYS = {"payload", "optionCodes", "optionValues", "parameterRequestList"}


def tshark_fields(pcap: Path, display_filter: str) -> dict[str, str]:
    args = ["tshark", "-r", str(pcap), "-Y", display_filter, "-T", "fields"]
    args += ["-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for field, _key in FIELDS:
        args += ["-e", field]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    if not lines:
        raise SystemExit(f"no packet matches {display_filter!r} in {pcap}")
    values = lines[0].split("\t")
    return {key: values[i] for i, (_field, key) in enumerate(FIELDS)}


def describe(raw: dict[str, str]) -> dict[str, object]:
    entry: dict[str, object] = {}
    for key, value in raw.items():
        if key in ("payload", "optionCodes", "optionValues") or value == "":
            continue
        if key not in LIST_KEYS:
            # tshark repeats some fields: a type-1 client identifier shows the MAC again as
            # dhcp.hw.mac_addr. The header's own field always comes first.
            value = value.split(",")[0]
        if key == "xid":
            entry[key] = int(value, 16)
        elif key in INT_KEYS:
            entry[key] = int(value, 0)
        elif key == "parameterRequestList":
            entry[key] = [int(item) for item in value.split(",")]
        else:
            entry[key] = value
    # tshark lists PAD (0) as an option type without a value and END separately.
    codes = [int(code) for code in raw["optionCodes"].split(",") if code not in ("0", "255")]
    # A zero-length option (Rapid Commit, for one) has no value: tshark prints <MISSING>.
    values = ["" if v == "<MISSING>" else v for v in raw["optionValues"].split(",")]
    if len(codes) != len(values):
        raise SystemExit(f"option codes {codes} do not pair with values {values}")
    entry["options"] = [{"code": c, "hex": v} for c, v in zip(codes, values)]
    return entry


def main() -> None:
    out_dir = Path(sys.argv[1])
    manifest: dict[str, object] = {}
    for spec in sys.argv[2:]:
        client, mac = spec.split("=", 1)
        pcap = out_dir / f"{client}.pcap"
        for kind, message_type in KINDS:
            display_filter = f"dhcp.option.dhcp == {message_type} && dhcp.hw.mac_addr == {mac}"
            raw = tshark_fields(pcap, display_filter)
            payload = bytes.fromhex(raw["payload"].replace(":", ""))
            name = f"{client}-{kind}"
            (out_dir / f"{name}.bin").write_bytes(payload)
            entry = {"client": client, "file": f"{name}.bin", "pcap": pcap.name}
            entry["size"] = len(payload)
            entry.update(describe(raw))
            manifest[name] = entry

    versions = {}
    for line in (out_dir / "versions.txt").read_text().splitlines():
        key, _, value = line.partition("=")
        versions[key] = value
    document = {"capture": versions, "fixtures": manifest}
    (out_dir / "manifest.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
