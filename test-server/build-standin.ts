/**
 * Bundles the Velociraptor stand-in into ONE file that a plain `node` (Debian's, v18 or later) runs, so a test host
 * can install it as /usr/local/bin/velociraptor exactly where a deployment puts the real binary:
 * `npm run build:standin [-- --out FILE]` → dist/standin/velociraptor (CommonJS, with a shebang, executable).
 *
 * CommonJS because an extensionless file outside a package is CommonJS to node. Two files the sources read from
 * the package root at run time are embedded instead: the API .proto (proto/wire.ts; protobufjs reads .proto files from
 * disk) and the default fixture. For the bundle only, the package-root lookup (core/paths.ts) is swapped for one that
 * writes them into a private folder under the temp directory on first use.
 */
import { build, type Plugin } from "esbuild";
import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { packageRoot } from "../core/paths.js";

export const STANDIN_NODE_TARGET = "node18";

function embeddedPackageRoot(root: string): Plugin {
  const files: Record<string, string> = {
    "package.json": "{}\n",
    "proto/velociraptor.proto": readFileSync(join(root, "proto", "velociraptor.proto"), "utf8"),
    "test/fixtures/default.json": readFileSync(join(root, "test", "fixtures", "default.json"), "utf8"),
  };
  const realPaths = join(root, "core", "paths.ts");
  return {
    name: "embedded-package-root",
    setup(b) {
      b.onResolve({ filter: /[\\/]paths\.js$/ }, (args) => {
        const target = resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"));
        if (target !== realPaths) return undefined;
        return { path: "embedded-paths", namespace: "standin" };
      });
      b.onLoad({ filter: /^embedded-paths$/, namespace: "standin" }, () => ({
        resolveDir: dirname(realPaths),
        loader: "ts",
        contents: `
          import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
          import { tmpdir } from "node:os";
          import { dirname, join } from "node:path";
          import { createHash } from "node:crypto";
          export { megaraptorHome } from ${JSON.stringify(realPaths)};
          const FILES: Record<string, string> = ${JSON.stringify(files)};
          let root: string | undefined;
          /** The stand-in's package root: a private folder holding the embedded .proto and default fixture. */
          export function packageRoot(): string {
            if (root) return root;
            const digest = createHash("sha256").update(JSON.stringify(FILES)).digest("hex").slice(0, 12);
            const dir = join(tmpdir(), "velociraptor-standin-" + process.getuid?.() + "-" + digest);
            for (const [name, text] of Object.entries(FILES)) {
              const path = join(dir, name);
              if (existsSync(path) && readFileSync(path, "utf8") === text) continue;
              mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
              // Write then rename: a frontend and a tool command may start at the same moment.
              const tmp = path + "." + process.pid;
              writeFileSync(tmp, text, { mode: 0o600 });
              renameSync(tmp, path);
            }
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
