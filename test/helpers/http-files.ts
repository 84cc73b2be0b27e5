/**
 * Serves one file over plain HTTP to a test host, the way a customer's VM downloads the Velociraptor binary from a
 * release URL. It listens on the address the container reaches this machine at (the test bridge's gateway, see
 * host.ts) rather than 0.0.0.0, and answers only the remote addresses it is told to, so nothing off the bridge
 * can fetch from it.
 */
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { basename } from "node:path";

export interface ServedRequest {
  remote: string;
  path: string;
  status: number;
}

export interface FileServer {
  /** The URL the file is served at, e.g. http://172.18.0.1:40123/velociraptor */
  url: string;
  /** Hex SHA-256 of the file as served: the value a deployment pins. */
  sha256: string;
  /** Every request seen, answered or refused, in order. */
  requests: ServedRequest[];
  close(): Promise<void>;
}

/** Node reports IPv4 peers on a dual-stack socket as ::ffff:a.b.c.d. */
const plainAddress = (a: string | undefined) => (a ?? "").replace(/^::ffff:/, "");

export async function serveFile(file: string, opts: { bind: string; allowFrom: readonly string[]; urlPath?: string }): Promise<FileServer> {
  const urlPath = opts.urlPath ?? `/${encodeURIComponent(basename(file))}`;
  const sha256 = createHash("sha256").update(readFileSync(file)).digest("hex");
  const size = statSync(file).size;
  const requests: ServedRequest[] = [];
  const server = createServer((req, res) => {
    const remote = plainAddress(req.socket.remoteAddress);
    const path = (req.url ?? "").split("?")[0];
    let status = 200;
    if (!opts.allowFrom.includes(remote)) status = 403;
    else if (path !== urlPath) status = 404;
    else if (req.method !== "GET" && req.method !== "HEAD") status = 405;
    requests.push({ remote, path, status });
    if (status !== 200) {
      res.writeHead(status, { "content-type": "text/plain" }).end(`${status}\n`);
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(size) });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, opts.bind, () => resolve());
  });
  const { port } = server.address() as { port: number };
  const host = opts.bind.includes(":") ? `[${opts.bind}]` : opts.bind;
  return {
    url: `http://${host}:${port}${urlPath}`,
    sha256,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
