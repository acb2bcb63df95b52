// Bundles the studio's script: `node build.mjs OUTDIR` (make studio-js). Deterministic
// (no timestamps, no absolute paths), so the committed bundle can be compared with a
// rebuild (tests/gateway/console/test_studio_bundle.py).

import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || path.join(here, "..");

// codemirror-json-schema's markdown (shiki, WebAssembly) is replaced by ours.
const markdown = {
  name: "markdown",
  setup(context) {
    context.onResolve({ filter: /utils\/markdown(\.js)?$/ }, (args) =>
      args.importer.includes("codemirror-json-schema") ? { path: path.join(here, "markdown.js") } : undefined);
  },
};

await build({
  entryPoints: [path.join(here, "main.js")],
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  outfile: path.join(out, "studio.js"),
  absWorkingDir: path.join(here, "..", "..", "..", "..", ".."),
  plugins: [markdown],
  logLevel: "warning",
});
