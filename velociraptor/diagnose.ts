/**
 * When grpc-js only says "Failed to connect", a direct TLS handshake with the same credentials tells why:
 * the server's alert after our certificate (rejected client cert), a missing h2 ALPN (not the API port), and so on.
 */
import { X509Certificate } from "node:crypto";
import { connect as connectTcp } from "node:net";
import { connect } from "node:tls";
import type { ApiClientConfig } from "./config.js";
import type { TlsFailureKind } from "./errors.js";

export interface TlsProbeResult {
  kind?: TlsFailureKind;
  detail: string;
}

function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(address.slice(i + 1)) };
}

export function probeTls(config: ApiClientConfig, timeoutMs = 3000): Promise<TlsProbeResult> {
  const own = new X509Certificate(config.client_cert);
  if (Date.parse(own.validTo) < Date.now())
    return Promise.resolve({ kind: "CERT_EXPIRED", detail: `client_cert expired on ${new Date(own.validTo).toISOString()}` });
  if (Date.parse(own.validFrom) > Date.now())
    return Promise.resolve({ kind: "CERT_NOT_YET_VALID", detail: `client_cert is valid only from ${new Date(own.validFrom).toISOString()}` });
  const { host, port } = splitHostPort(config.api_connection_string);
  const name = config.pinned_server_name || "VelociraptorServer";
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: TlsProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const socket = connect({
      host,
      port,
      servername: name,
      ca: config.ca_certificate,
      cert: config.client_cert,
      key: config.client_private_key,
      ALPNProtocols: ["h2"],
    });
    const timer = setTimeout(() => done({ detail: "TLS handshake did not finish in time" }), timeoutMs);
    socket.on("error", (err: NodeJS.ErrnoException) => {
      const m = `${err.code ?? ""} ${err.message}`.toLowerCase();
      if (m.includes("econnrefused")) return done({ kind: "CONNECTION_REFUSED", detail: err.message });
      if (m.includes("certificate required") || m.includes("unknown ca") || m.includes("bad certificate") || m.includes("alert number 4") || m.includes("alert number 116"))
        return done({ kind: "CLIENT_CERT_REJECTED", detail: err.message });
      if (m.includes("no application protocol") || m.includes("wrong version number")) return done({ kind: "WRONG_PORT", detail: err.message });
      if (m.includes("expired")) return done({ kind: "CERT_EXPIRED", detail: err.message });
      if (m.includes("not yet valid")) return done({ kind: "CERT_NOT_YET_VALID", detail: err.message });
      if (m.includes("altnames") || m.includes("err_tls_cert_altname_invalid")) return done({ kind: "NAME_MISMATCH", detail: err.message });
      if (m.includes("self-signed") || m.includes("self signed") || m.includes("unable to verify") || m.includes("unable_to_get_issuer"))
        return done({ kind: "UNKNOWN_CA", detail: err.message });
      if (m.includes("econnreset") || m.includes("socket hang up"))
        return done({ kind: "CLIENT_CERT_REJECTED", detail: `the server closed the connection during the handshake (${err.message})` });
      done({ detail: err.message });
    });
    let handshakeDone = false;
    socket.on("close", () => {
      // TLS 1.3: the server checks our certificate after the handshake and just drops the connection.
      if (handshakeDone) done({ kind: "CLIENT_CERT_REJECTED", detail: "the server closed the connection right after the handshake" });
    });
    socket.on("secureConnect", () => {
      handshakeDone = true;
      if (socket.alpnProtocol !== "h2") return done({ kind: "WRONG_PORT", detail: "the server does not speak HTTP/2 (gRPC) on this port" });
      // TLS 1.3: a rejected client certificate arrives as an alert after the handshake; give it a moment.
      setTimeout(() => done({ detail: "TLS handshake succeeded" }), 500);
    });
    socket.on("data", () => undefined);
  });
}

/** Whether a plain TCP connection to host:port completes within timeoutMs (tells a hung handshake from a dead host). */
export function probeTcp(address: string, timeoutMs: number): Promise<{ connected: boolean; detail: string }> {
  const { host, port } = splitHostPort(address);
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port });
    const done = (r: { connected: boolean; detail: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ connected: false, detail: `no TCP connection within ${timeoutMs} ms` }), timeoutMs);
    socket.once("connect", () => done({ connected: true, detail: "TCP connected" }));
    socket.once("error", (err) => done({ connected: false, detail: err.message }));
  });
}
