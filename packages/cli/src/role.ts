/** The roles of the one binary (SPEC section 1): `vm-dhcp --role=<role>` runs that command. */
export const ROLES = ["controller", "agent", "webhook"] as const;

/** Every command name the CLI knows, roles and tools. */
const COMMANDS = new Set<string>([...ROLES, "decode"]);

/**
 * Rewrites `--role=<role>` (or `--role <role>`) into the command of that name, so that
 * `vm-dhcp --role=agent --ippool-ref=a/b` and `vm-dhcp agent --ippool-ref=a/b` are one and
 * the same invocation. Arguments after `--` are left alone. Throws, naming the flag and
 * value, for an unknown role, a missing value, or a role that disagrees with the command.
 */
export function roleToCommand(argv: readonly string[]): string[] {
  const rest: string[] = [];
  let role: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const match = /^--role(?:=(.*))?$/.exec(arg);
    if (!match) {
      rest.push(arg);
      continue;
    }
    const value = match[1] ?? argv[++i];
    if (value === undefined || value.startsWith("-")) {
      throw new Error(`--role: expected one of ${ROLES.join(", ")}`);
    }
    if (role !== undefined && role !== value) {
      throw new Error(`--role=${JSON.stringify(value)}: --role=${JSON.stringify(role)} given too`);
    }
    role = value;
  }
  if (role === undefined) return rest;
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new Error(`--role=${JSON.stringify(role)}: expected one of ${ROLES.join(", ")}`);
  }
  const command = rest[0];
  if (command !== undefined && COMMANDS.has(command)) {
    if (command !== role) {
      throw new Error(`--role=${JSON.stringify(role)}: the command says ${command}`);
    }
    return rest;
  }
  return [role, ...rest];
}
