import { describe, expect, it } from "vitest";
import { roleToCommand } from "../src/role.js";

describe("roleToCommand", () => {
  it.each([
    { why: "no --role: unchanged", argv: ["agent", "--nic=eth2"], out: ["agent", "--nic=eth2"] },
    { why: "--role=X becomes the command", argv: ["--role=webhook"], out: ["webhook"] },
    {
      why: "--role X with a space, flags kept in order",
      argv: ["--debug", "--role", "agent", "--ippool-ref", "a/b"],
      out: ["agent", "--debug", "--ippool-ref", "a/b"],
    },
    {
      why: "the same role as the command is redundant, not an error",
      argv: ["controller", "--role=controller", "--no-agent"],
      out: ["controller", "--no-agent"],
    },
    {
      why: "the same role twice is fine",
      argv: ["--role=agent", "--role", "agent"],
      out: ["agent"],
    },
    {
      why: "after -- nothing is read as a flag",
      argv: ["agent", "--", "--role=webhook"],
      out: ["agent", "--", "--role=webhook"],
    },
    {
      why: "a flag value that looks like a command is not the command",
      argv: ["--role=agent", "--name", "decode"],
      out: ["agent", "--name", "decode"],
    },
  ])("$why", ({ argv, out }) => {
    expect(roleToCommand(argv)).toEqual(out);
  });

  it.each([
    { why: "unknown role", argv: ["--role=server"], error: '--role="server": expected one of' },
    { why: "the decode tool is no role", argv: ["--role=decode"], error: '--role="decode"' },
    { why: "missing value at the end", argv: ["--role"], error: "--role: expected one of" },
    { why: "a flag where the value goes", argv: ["--role", "--debug"], error: "--role: expected" },
    {
      why: "two different roles",
      argv: ["--role=agent", "--role=webhook"],
      error: '--role="webhook": --role="agent" given too',
    },
    {
      why: "role and command disagree",
      argv: ["webhook", "--role=agent"],
      error: '--role="agent": the command says webhook',
    },
  ])("throws for $why", ({ argv, error }) => {
    expect(() => roleToCommand(argv)).toThrow(error);
  });
});
