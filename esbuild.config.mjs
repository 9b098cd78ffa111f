// Bundles the CLI and everything it imports into one ESM file, dist/vm-dhcp.mjs, so the image
// needs nothing but Node.js and that file.
import { build } from "esbuild";

const result = await build({
  entryPoints: ["packages/cli/src/main.ts"],
  outfile: "dist/vm-dhcp.mjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: "linked",
  minifySyntax: true,
  metafile: true,
  legalComments: "linked",
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __vmDhcpCreateRequire } from 'node:module'; const require = __vmDhcpCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});

const bytes = Object.values(result.metafile.outputs)
  .filter((o) => o.entryPoint)
  .reduce((sum, o) => sum + o.bytes, 0);
console.log(`bundled dist/vm-dhcp.mjs (${(bytes / 1024).toFixed(0)} KiB)`);
