/** Reads a boolean environment fallback: "1", "true", "yes" and "on" (any case) are true. */
export function envFlag(name: string): boolean {
  return /^(1|true|yes|on)$/i.test(process.env[name] ?? "");
}

/** Reads a string environment fallback; empty counts as unset. */
export function envText(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}
