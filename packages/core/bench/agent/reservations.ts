/** The fixed MAC -> IP reservations every server of the benchmark is given. */

/** One reservation. */
export interface Reservation {
  mac: string;
  ip: string;
}

/** Most reservations that fit 198.18.0.0/17 after the network, router and broadcast. */
const MAX_RESERVATIONS = 32_000;

/** `count` reservations: MACs 52:54:00:ab:00:00 upwards, addresses from 198.18.0.2 upwards. */
export function reservations(count: number): Reservation[] {
  if (count > MAX_RESERVATIONS) throw new Error(`at most ${MAX_RESERVATIONS} reservations`);
  return Array.from({ length: count }, (_, i) => {
    const host = i + 2;
    return {
      mac: `52:54:00:ab:${hex(i >> 8)}:${hex(i & 0xff)}`,
      ip: `198.18.${host >> 8}.${host & 0xff}`,
    };
  });
}

const hex = (byte: number) => byte.toString(16).padStart(2, "0");
