// Bundles the CLI and everything it imports into one ESM file, dist/vm-dhcp.mjs, so the image
// needs nothing but Node.js and that file.
//
//   node esbuild.config.mjs [--outfile=PATH] [--quiet]
//
// Workspace packages are bundled from their TypeScript sources (the paths of
// tsconfig.check.json), as vitest and tsx run them, so a bundle never holds a stale build.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

// Paths are relative to the repository root, wherever the script is started from.
const root = fileURLToPath(new URL(".", import.meta.url));

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const outfile = arg("outfile") ?? "dist/vm-dhcp.mjs";
const quiet = process.argv.includes("--quiet");
const { version } = JSON.parse(readFileSync(`${root}packages/cli/package.json`, "utf8"));

const result = await build({
  absWorkingDir: root,
  entryPoints: ["packages/cli/src/main.ts"],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  tsconfig: "tsconfig.check.json",
  sourcemap: "linked",
  minifySyntax: true,
  metafile: true,
  legalComments: "linked",
  // `vm-dhcp --version` reports the package version without reading any file at run time.
  define: { "process.env.VM_DHCP_VERSION": JSON.stringify(version) },
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __vmDhcpCreateRequire } from 'node:module'; const require = __vmDhcpCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});

const bytes = Object.values(result.metafile.outputs)
  .filter((o) => o.entryPoint)
  .reduce((sum, o) => sum + o.bytes, 0);
if (!quiet) console.log(`bundled ${outfile} (${(bytes / 1024).toFixed(0)} KiB, ${version})`);
