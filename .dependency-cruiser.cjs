/**
 * The layers of the project, low to high. A module may import its own layer and the layers below it, never above:
 *   core, proto            shared core (errors, logging, paths, audit) and the wire contract
 *   velociraptor           the Velociraptor client, config, TLS diagnosis, query builder, VQL parser
 *   profiles, components   deployment shapes and the Pulumi components
 *   dfir                   investigation services (analysis, collection, response, reports, results)
 *   deploy                 the deploy layer (Automation API, operations, preflight, health, credentials)
 *   test-server            the wire-compatible Velociraptor API test server (a product of its own)
 *   mcp                    the MCP adapter (server, tools, resources, prompts, safety)
 *   cli                    the composition root
 * test/architecture/layers.test.ts runs this and fails on any violation or cycle.
 */
const layer = (name, allowed) => ({
  name: `${name}-layer`,
  comment: `${name}/ may import only ${allowed.join(", ")}`,
  severity: "error",
  from: { path: `^${name}/` },
  to: { path: `^(core|proto|velociraptor|profiles|components|dfir|deploy|test-server|mcp|cli|test|bench)/`, pathNot: `^(${[name, ...allowed].join("|")})/` },
});

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", from: {}, to: { circular: true, dependencyTypesNot: ["type-only", "type-import"] } },
    layer("core", []),
    layer("proto", ["core"]),
    layer("velociraptor", ["core", "proto"]),
    layer("profiles", ["core"]),
    layer("components", ["core", "profiles"]),
    layer("dfir", ["core", "proto", "velociraptor"]),
    layer("deploy", ["core", "proto", "velociraptor", "profiles", "components"]),
    // The test server issues its certificates with the same PKI code the deployments use, and names datastore records
    // with the same encoding as the deployments' user bootstrap (pure modules).
    layer("test-server", ["core", "proto", "velociraptor", "components/pki|components/common(?=/datastore-names\\.ts$)"]),
    layer("mcp", ["core", "proto", "velociraptor", "profiles", "components", "dfir", "deploy"]),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
