/**
 * How a dynamic provider reaches its implementation module from inside Pulumi's dynamic-provider host.
 *
 * Pulumi serialises a dynamic provider's functions into state and runs them in `pulumi-resource-pulumi-nodejs`, a
 * plain `node` started by the engine in the program's directory (sdk/nodejs/dist/pulumi-resource-pulumi-nodejs @
 * v3.248.0) — no tsx, no NODE_PATH, no `nodeargs`. So the provider functions stay tiny and self-contained and load
 * the real code at run time by ABSOLUTE path, fixed when the program ran:
 * - from dist/ the module is a .js file and node imports it; its own imports (ssh2, @peculiar/x509, …) resolve
 *   from the file's location, i.e. from the package's node_modules, whatever the host's working directory;
 * - from the TypeScript sources (tsx, vitest) the module is a .ts file, which plain node refuses
 *   (ERR_UNKNOWN_FILE_EXTENSION on Node 20): it is loaded through tsx's `tsImport`, resolved from the package root
 *   (running from sources means tsx is installed there).
 * The loader is a string compiled with `new Function` so nothing a bundler or test runner rewrites (helpers such
 * as esbuild's `__name`) ends up in the serialised closure.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../../core/paths.js";

export interface DynamicModuleSpec {
  /** Absolute path of the implementation module (.js from dist/, .ts from the sources). */
  path: string;
  /** The package root holding node_modules (for tsx when `path` is a .ts file). */
  root: string;
}

/**
 * The spec of module `name` (no extension) next to the caller: `dynamicModule(import.meta.url, "install")`.
 * Its extension is the caller's own, so dist/ loads dist/ and the sources load the sources.
 */
export function dynamicModule(callerUrl: string, name: string): DynamicModuleSpec {
  const caller = fileURLToPath(callerUrl);
  const ext = caller.endsWith(".ts") ? ".ts" : ".js";
  return { path: join(dirname(caller), `${name}${ext}`), root: packageRoot() };
}

/**
 * Body of `async (spec) => module`, as source. Only `node:` built-ins and the spec are used; errors say which file
 * was missing and how to fix it.
 */
export const LOAD_DYNAMIC_MODULE = `
const imp = new Function("p", "return import(p)");
return (async () => {
  const { pathToFileURL } = await imp("node:url");
  const { existsSync } = await imp("node:fs");
  if (!existsSync(spec.path))
    throw new Error("megaraptor: the provider module " + spec.path + " is gone (the Megaraptor installation that last deployed this stack moved or was removed); reinstall Megaraptor there or run the operation again from the new installation with 'up' first");
  if (!spec.path.endsWith(".ts")) return imp(pathToFileURL(spec.path).href);
  const { createRequire } = await imp("node:module");
  const { readFileSync } = await imp("node:fs");
  const { dirname, join } = await imp("node:path");
  let api;
  try {
    // tsx's ESM API by its package's own export map (require.resolve would pick the CommonJS build).
    const pkgFile = createRequire(spec.root + "/package.json").resolve("tsx/package.json");
    const entry = JSON.parse(readFileSync(pkgFile, "utf8")).exports["./esm/api"];
    api = join(dirname(pkgFile), typeof entry === "string" ? entry : entry.import.default);
  } catch (err) {
    throw new Error("megaraptor: this stack was deployed from the TypeScript sources at " + spec.root + " and tsx's ESM API is not installed there (" + err.message + "); run 'npm ci' in " + spec.root + ", or deploy from the built package (npm run build, then dist/)");
  }
  const { tsImport } = await imp(pathToFileURL(api).href);
  return tsImport(pathToFileURL(spec.path).href, pathToFileURL(spec.root + "/package.json").href);
})();
`;

/** Loads the module in this process the way the dynamic-provider host does (tests and mocks use it). */
export function loadDynamicModule<T>(spec: DynamicModuleSpec): Promise<T> {
  return new Function("spec", LOAD_DYNAMIC_MODULE)(spec) as Promise<T>;
}
