import { describe, expect, it } from "vitest";
import { checkImageReference } from "../src/image-ref.js";

describe("checkImageReference", () => {
  it.each([
    { image: "vm-dhcp", why: "a bare repository (tag latest)" },
    { image: "vm-dhcp/vm-dhcp:0.1.0", why: "repository path and tag" },
    { image: "registry.example:5000/team/vm-dhcp:v0.1.0-rc.1", why: "registry with port" },
    { image: "localhost:5000/vm-dhcp:dev", why: "localhost registry" },
    { image: "Registry.Example/vm-dhcp:1", why: "host names are case-insensitive" },
    { image: "[fd00::1]:5000/vm-dhcp:1", why: "IPv6 registry" },
    { image: "vm_dhcp__x/a.b-c:TAG_1", why: "separators inside path components" },
    { image: `vm-dhcp@sha256:${"a".repeat(64)}`, why: "digest only" },
    { image: `vm-dhcp:0.1.0@sha256:${"0".repeat(64)}`, why: "tag and digest" },
  ])("accepts $image ($why)", ({ image }) => {
    expect(() => checkImageReference("--image", image)).not.toThrow();
  });

  it.each([
    { image: "", why: "empty" },
    { image: "Vm-Dhcp", why: "upper-case repository" },
    { image: "vm-dhcp:", why: "empty tag" },
    { image: ":0.1.0", why: "no repository" },
    { image: "vm dhcp:1", why: "a space" },
    { image: "vm-dhcp:1:2", why: "two tags" },
    { image: "vm-dhcp:-1", why: "a tag starting with a dash" },
    { image: `vm-dhcp:${"t".repeat(129)}`, why: "a tag over 128 characters" },
    { image: "vm-dhcp@sha256:abc", why: "a short digest" },
    { image: "-vm-dhcp", why: "a leading dash" },
    { image: "vm-dhcp/", why: "an empty path component" },
    { image: `${"a".repeat(256)}:1`, why: "a name over 255 characters" },
    { image: "https://registry.example/vm-dhcp", why: "a URL" },
  ])("rejects $image ($why), naming the flag", ({ image }) => {
    expect(() => checkImageReference("--image", image)).toThrow(
      `--image=${JSON.stringify(image)}: not an image reference`,
    );
  });
});
