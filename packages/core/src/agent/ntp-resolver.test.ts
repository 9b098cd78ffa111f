import { isIpv4 } from "@vm-dhcp/ipam";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../logger.js";
import { MAX_ADDRESSES_PER_NAME, NtpResolver, type ResolveHost } from "./ntp-resolver.js";

const NAME = "pool.ntp.example";

let resolver: NtpResolver | undefined;

afterEach(() => {
  resolver?.stop();
  resolver = undefined;
});

/** A resolver over `answer` that has looked {@link NAME} up once. */
async function resolvedWith(answer: string[]): Promise<NtpResolver> {
  const resolve: ResolveHost = async () => [...answer];
  resolver = new NtpResolver({ resolve, logger: silentLogger, onChange: () => {} });
  resolver.watch([NAME]);
  await resolver.refresh();
  return resolver;
}

describe("NtpResolver.addressesOf", () => {
  it.each([
    [
      "80 addresses (a round-robin pool): capped, so the pool's replies still fit",
      Array.from({ length: 80 }, (_, i) => `198.51.100.${i + 1}`),
      ["198.51.100.1", "198.51.100.10", "198.51.100.11", "198.51.100.12"],
    ],
    [
      "duplicates: counted once, so they take no place under the cap",
      ["192.0.2.5", "192.0.2.5", "192.0.2.5", "192.0.2.5", "192.0.2.6"],
      ["192.0.2.5", "192.0.2.6"],
    ],
    [
      "the same set in another order: the same addresses kept",
      ["192.0.2.9", "192.0.2.8", "192.0.2.7", "192.0.2.6", "192.0.2.5"],
      ["192.0.2.5", "192.0.2.6", "192.0.2.7", "192.0.2.8"],
    ],
  ])("keeps a name's answer of %s", async (_why, answer, kept) => {
    const ntp = await resolvedWith(answer);
    expect(ntp.addressesOf([NAME], isIpv4)).toEqual(kept);
  });

  it("keeps literals as they are, beside a name's capped answer", async () => {
    const many = Array.from({ length: 80 }, (_, i) => `198.51.100.${i + 1}`);
    const ntp = await resolvedWith(many);
    const addresses = ntp.addressesOf(["192.0.2.123", NAME], isIpv4);
    expect(addresses).toHaveLength(1 + MAX_ADDRESSES_PER_NAME);
    expect(addresses[0]).toBe("192.0.2.123");
  });
});
