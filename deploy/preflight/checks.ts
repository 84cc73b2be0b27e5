/**
 * The pieces target checks are made of: a check's result (pass, fail with the fix, or skip with the reason) and the
 * probes that look at a target without changing it. Each target's own checks are in deploy/targets/.
 */
import { statfsSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { homedir } from "node:os";

export interface CheckResult {
  name: string;
  status: "pass" | "fail" | "skip";
  detail: string;
  fix?: string;
}

export const pass = (name: string, detail: string): CheckResult => ({ name, status: "pass", detail });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: "fail", detail, fix });
export const skip = (name: string, detail: string): CheckResult => ({ name, status: "skip", detail });

export async function portFree(port: number, host = "0.0.0.0"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** Docker Engine API over the unix socket (or DOCKER_HOST tcp://): GET /version. */
export function dockerVersion(env: NodeJS.ProcessEnv = process.env, timeoutMs = 5000): Promise<{ Version: string; ApiVersion: string }> {
  const hostVar = env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  const opts = hostVar.startsWith("unix://") ? { socketPath: hostVar.slice(7) } : (() => { const u = new URL(hostVar.replace(/^tcp:/, "http:")); return { host: u.hostname, port: Number(u.port || 2375) }; })();
  return new Promise((resolve, reject) => {
    const req = request({ ...opts, path: "/version", method: "GET", timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** Connects with the key/password and runs `sudo -n true`. */
export async function sshProbe(o: { host: string; port: number; user: string; privateKey?: string; password?: string; timeoutMs?: number }): Promise<{ connected: boolean; sudo: boolean; error?: string }> {
  // ssh2 loads its crypto bindings on import: only sessions that deploy over SSH pay for it.
  const { Client: SshClient } = await import("ssh2");
  return new Promise((resolve) => {
    const c = new SshClient();
    const done = (r: { connected: boolean; sudo: boolean; error?: string }) => {
      c.end();
      resolve(r);
    };
    c.on("ready", () => {
      // root needs no sudo (minimal images often lack it); anyone else needs passwordless sudo.
      c.exec('[ "$(id -u)" = 0 ] || sudo -n true', (err, stream) => {
        if (err) return done({ connected: true, sudo: false, error: err.message });
        stream.on("close", (code: number) => done({ connected: true, sudo: code === 0 }));
        stream.resume();
        stream.stderr.resume();
      });
    });
    c.on("error", (err) => resolve({ connected: false, sudo: false, error: err.message }));
    try {
      c.connect({ host: o.host, port: o.port, username: o.user, privateKey: o.privateKey, password: o.password, readyTimeout: o.timeoutMs ?? 10_000 });
    } catch (err) {
      // ssh2 rejects an unreadable key synchronously (e.g. an unsupported format): report it like any other failure.
      resolve({ connected: false, sudo: false, error: `${(err as Error).message} (use an OpenSSH or PEM private key)` });
    }
  });
}

/** Room for the Pulumi state and generated files, whatever the target. */
export function checkDisk(): CheckResult {
  try {
    const st = statfsSync(homedir());
    const freeGb = (st.bavail * st.bsize) / 1e9;
    return freeGb >= 1 ? pass("local disk", `${freeGb.toFixed(1)} GB free for state and generated files`) : fail("local disk", `${freeGb.toFixed(2)} GB free`, "Free some space in your home directory (Pulumi state, evidence).");
  } catch (err) {
    return skip("local disk", (err as Error).message);
  }
}
