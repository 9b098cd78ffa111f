/** Measuring helpers for bench.ts: garbage collection, retained bytes, timing, formatting. */

const gc = (globalThis as { gc?: () => void }).gc;

/** True when node runs with --expose-gc, which retained-memory figures need. */
export function canCollectGarbage(): boolean {
  return gc !== undefined;
}

/** Bytes the heap and ArrayBuffer backing stores hold after a full collection. */
export function liveBytes(): number {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Milliseconds one `build` takes and the bytes one built value retains, averaged over `copies`
 * values held at once (small values would otherwise drown in heap noise). The values are
 * dropped when this returns.
 */
export function measureBuild(build: () => unknown, copies = 1): { ms: number; bytes: number } {
  const held: unknown[] = [];
  const before = liveBytes();
  const began = performance.now();
  for (let i = 0; i < copies; i++) held.push(build());
  const ms = (performance.now() - began) / copies;
  const bytes = (liveBytes() - before) / copies;
  held.length = 0;
  return { ms, bytes };
}

/** Milliseconds `run` takes. */
export function timeMs(run: () => void): number {
  const began = performance.now();
  run();
  return performance.now() - began;
}

/** Deterministic xorshift32 generator, so both allocators see the same victims. */
export function randomSource(seed: number): (bound: number) => number {
  let state = seed >>> 0 || 1;
  return (bound) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % bound;
  };
}

/** Distinct MAC-like owners. */
export function owners(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const hex = i.toString(16).padStart(8, "0");
    return `52:54:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`;
  });
}

/** `1234567` -> `"1,234,567"`. */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Bytes as KiB below 1 MiB, else MiB, with two decimals. */
export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) < 2 ** 20) return `${(bytes / 1024).toFixed(2)} KiB`;
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}

/** Prints rows as a left-aligned table. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(row));
}
