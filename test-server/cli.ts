/**
 * `npm run test-server -- --fixture FILE --port N --out-dir DIR`: runs the test server by hand for MCP trials,
 * writing the CA, server certificate, client certificates and a ready api_client.yaml into DIR.
 */
import { Command } from "commander";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FixtureError } from "./fixture-load.js";
import { startTestServer } from "./index.js";

const program = new Command()
  .name("test-server")
  .description("Velociraptor API test server (real gRPC + mTLS, in-memory model)")
  .option("--fixture <file>", "fixture JSON (default test/fixtures/default.json)")
  .option("--port <n>", "port (0 = any free port)", "8001")
  .option("--host <host>", "bind address", "127.0.0.1")
  .option("--out-dir <dir>", "where to write certificates and api_client.yaml", "./test-server-out")
  .parse();

const o = program.opts<{ fixture?: string; port: string; host: string; outDir: string }>();
const server = await startTestServer({ fixture: o.fixture ? resolve(o.fixture) : undefined, port: Number(o.port), host: o.host }).catch((err: unknown) => {
  // A bad fixture is the user's to fix: its `path: problem` lines, no stack trace.
  if (!(err instanceof FixtureError)) throw err;
  console.error(`${err.message}\n${err.hint ?? ""}`);
  process.exit(2);
});
const dir = resolve(o.outDir);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "ca.pem"), server.pki.ca.certificate);
writeFileSync(join(dir, "server.pem"), server.pki.server.certificate);
for (const who of ["admin", "reader", "investigator", "noPermissions"] as const) {
  writeFileSync(join(dir, `${who}.cert.pem`), server.pki.clients[who].certificate);
  writeFileSync(join(dir, `${who}.key.pem`), server.pki.clients[who].privateKey, { mode: 0o600 });
  server.writeApiClientYaml(dir, who);
}
const main = server.writeApiClientYaml(dir, "admin");
writeFileSync(join(dir, "api_client.yaml"), (await import("node:fs")).readFileSync(main), { mode: 0o600 });
console.error(`Velociraptor API test server listening on ${server.address}`);
console.error(`api_client.yaml (admin): ${join(dir, "api_client.yaml")}`);
console.error(`Try: VELOCIRAPTOR_CONFIG_PATH=${join(dir, "api_client.yaml")} npm run megaraptor -- query "SELECT * FROM info()"`);
process.on("SIGINT", () => void server.stop().then(() => process.exit(0)));
process.on("SIGTERM", () => void server.stop().then(() => process.exit(0)));
