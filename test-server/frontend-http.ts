/**
 * The Velociraptor stand-in's two HTTPS listeners besides the gRPC API, with the behaviour a deployment's health
 * checks observe on 0.77.2 (docs/velociraptor-rules.md; velociraptor-api.md §5.3):
 * - the client frontend (`Frontend.bind_address:bind_port`, Frontend certificate): `/healthz` → 200,
 *   `/server.pem` → the frontend certificate (server/comms.go 136–137, 169–194), both under `Frontend.base_path`;
 * - the GUI (`GUI.bind_address:bind_port`, Frontend certificate unless `use_plain_http`): `/` → 307 to
 *   `/app/index.html`, which needs Basic credentials of a stored user with a password (`user add`), else 401 with
 *   `WWW-Authenticate: Basic realm="Restricted"`.
 * It serves no Velociraptor GUI: an authenticated request gets a page saying this is the stand-in.
 */
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { UserStore } from "./user-store.js";

export interface HttpListenersOptions {
  certificate: string;
  privateKey: string;
  frontend?: { bindAddress: string; bindPort: number; basePath: string };
  gui?: { bindAddress: string; bindPort: number; usePlainHttp: boolean; basePath?: string };
  users: UserStore;
}

export interface HttpListeners {
  frontendPort?: number;
  guiPort?: number;
  close(): Promise<void>;
}

function frontendHandler(basePath: string, certificate: string) {
  const base = basePath.replace(/\/$/, "");
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === `${base}/healthz`) return void res.writeHead(200).end();
    if (path === `${base}/server.pem`) return void res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end(certificate);
    res.writeHead(404).end();
  };
}

function guiHandler(users: UserStore) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/" || path === "") return void res.writeHead(307, { Location: "/app/index.html" }).end();
    if (!path!.startsWith("/app/")) return void res.writeHead(404).end();
    const auth = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
    const [user, ...rest] = auth ? Buffer.from(auth[1]!, "base64").toString("utf8").split(":") : [];
    if (!user || !users.verifyPassword(user, rest.join(":"))) {
      return void res.writeHead(401, { "WWW-Authenticate": 'Basic realm="Restricted"' }).end();
    }
    res
      .writeHead(200, { "Content-Type": "text/html; charset=utf-8" })
      .end(`<!doctype html><title>Velociraptor stand-in</title><p>Velociraptor stand-in (Megaraptor API test server): signed in as ${user.replace(/[<>&"]/g, "")}. This is not the Velociraptor GUI.</p>`);
  };
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  server.listen(port, host);
  await once(server, "listening");
  return (server.address() as { port: number }).port;
}

/** Starts the frontend and GUI listeners that are configured; `close()` stops both. */
export async function startHttpListeners(o: HttpListenersOptions): Promise<HttpListeners> {
  const servers: Server[] = [];
  const out: HttpListeners = {
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
  const tls = { cert: o.certificate, key: o.privateKey, minVersion: "TLSv1.2" as const };
  if (o.frontend) {
    const s = createHttpsServer(tls, frontendHandler(o.frontend.basePath, o.certificate));
    servers.push(s);
    out.frontendPort = await listen(s, o.frontend.bindAddress || "0.0.0.0", o.frontend.bindPort);
  }
  if (o.gui) {
    const s = o.gui.usePlainHttp ? createHttpServer(guiHandler(o.users)) : createHttpsServer(tls, guiHandler(o.users));
    servers.push(s);
    out.guiPort = await listen(s, o.gui.bindAddress || "127.0.0.1", o.gui.bindPort);
  }
  return out;
}
