/**
 * Bundles the Velociraptor stand-in into ONE file that a plain `node` (Debian's, v18 or later) runs, so a test host
 * can install it as /usr/local/bin/velociraptor exactly where a deployment puts the real binary:
 * `npm run build:standin [-- --out FILE]` → dist/standin/velociraptor (CommonJS, with a shebang, executable).
 *
 * CommonJS because an extensionless file outside a package is CommonJS to node. Two things the sources read from
 * the package at run time are embedded instead: the API .proto (proto/wire.ts loads it from the package root) and the
 * default fixture. The package-root lookup is swapped, for the bundle only, for one that writes the .proto into a
 * private cache folder on first use (protobufjs reads .proto files from disk).
 */
import { build, type Plugin } from "esbuild";
import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { packageRoot } from "../core/paths.js";

export const STANDIN_NODE_TARGET = "node18";

function embeddedPackageRoot(root: string): Plugin {
  const proto = readFileSync(join(root, "proto", "velociraptor.proto"), "utf8");
  const realPaths = join(root, "core", "paths.ts");
  return {
    name: "embedded-package-root",
    setup(b) {
      b.onResolve({ filter: /[\\/]paths\.js$/ }, (args) => {
        const target = resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"));
        if (target !== realPaths || args.importer.endsWith("embedded-paths")) return undefined;
        return { path: "embedded-paths", namespace: "standin" };
      });
      b.onLoad({ filter: /^embedded-paths$/, namespace: "standin" }, () => ({
        resolveDir: dirname(realPaths),
        loader: "ts",
        contents: `
          import { mkdirSync, writeFileSync, existsSync } from "node:fs";
          import { tmpdir } from "node:os";
          import { join } from "node:path";
          import { createHash } from "node:crypto";
          export { megaraptorHome } from ${JSON.stringify(realPaths)};
          const PROTO = ${JSON.stringify(proto)};
          let root: string | undefined;
          /** The stand-in's package root: a private folder holding the embedded .proto. */
          export function packageRoot(): string {
            if (root) return root;
            const dir = join(tmpdir(), "velociraptor-standin-" + createHash("sha256").update(PROTO).digest("hex").slice(0, 12));
            mkdirSync(join(dir, "proto"), { recursive: true, mode: 0o700 });
            if (!existsSync(join(dir, "package.json"))) writeFileSync(join(dir, "package.json"), "{}\\n");
            writeFileSync(join(dir, "proto", "velociraptor.proto"), PROTO);
            return (root = dir);
          }
        `,
      }));
    },
  };
}

/** Builds the bundle; returns its path. */
export async function buildStandIn(out = join(packageRoot(), "dist", "standin", "velociraptor")): Promise<string> {
  const root = packageRoot();
  mkdirSync(dirname(out), { recursive: true });
  await build({
    entryPoints: [join(root, "test-server", "standin-main.ts")],
    outfile: out,
    bundle: true,
    platform: "node",
    target: STANDIN_NODE_TARGET,
    format: "cjs",
    banner: { js: "#!/usr/bin/env node" },
    plugins: [embeddedPackageRoot(root)],
    logLevel: "error",
    legalComments: "none",
  });
  chmodSync(out, 0o755);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]).replace(/\.ts$/, "") === join(packageRoot(), "test-server", "build-standin")) {
  const i = process.argv.indexOf("--out");
  const path = await buildStandIn(i > 0 ? resolve(process.argv[i + 1]!) : undefined);
  process.stderr.write(`Velociraptor stand-in bundled: ${path}\n`);
}
