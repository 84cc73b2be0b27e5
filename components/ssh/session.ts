/**
 * One SSH session to a deployment host (ssh2): dial with a few retries, run a shell script with optional stdin,
 * upload a file over SFTP. Used by the SSH install provider inside Pulumi's dynamic-provider host, and by the
 * deploy layer's API tunnel.
 *
 * Errors name the host, the step and the fix. Dial failures are retried (a host still booting, sshd restarting);
 * a connection lost while a step runs is not retried — the step may have half-run, and every step is written to
 * be re-run by the next `up`.
 */
import ssh2 from "ssh2";

// ssh2 is CommonJS: Node's ESM loader does not see its named exports, so take them from the default.
const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKey?: string;
  password?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export type SshErrorKind = "dial" | "auth" | "lost" | "step" | "timeout";

export class SshError extends Error {
  constructor(
    readonly kind: SshErrorKind,
    message: string,
    readonly exitCode?: number,
  ) {
    super(message);
    this.name = "SshError";
  }
}

const where = (t: SshTarget) => `${t.user}@${t.host}:${t.port}`;
const tail = (s: string, lines = 8) => s.trim().split("\n").slice(-lines).join("\n");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function dialOnce(t: SshTarget, readyTimeoutMs: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const conn = new Client();
    conn
      .once("ready", () => resolve(conn))
      .once("error", (err: Error & { level?: string }) => {
        conn.end();
        reject(err);
      })
      .connect({
        host: t.host,
        port: t.port,
        username: t.user,
        privateKey: t.privateKey,
        password: t.password,
        readyTimeout: readyTimeoutMs,
        // A host that vanishes while a step runs is noticed within ~15 s instead of at the step's timeout.
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
      });
  });
}

export class SshSession {
  private lost?: Error;

  private constructor(
    private readonly conn: Client,
    readonly target: SshTarget,
  ) {
    conn.on("error", (err: Error) => (this.lost = err));
    conn.on("close", () => (this.lost ??= new Error("the connection was closed")));
  }

  /** Dials the host; retries refused/reset/timed-out dials with back-off, never an authentication failure. */
  static async open(t: SshTarget, o: { attempts?: number; readyTimeoutMs?: number } = {}): Promise<SshSession> {
    if (!t.privateKey && !t.password) throw new SshError("auth", `SSH to ${where(t)}: no private key or password was given; store one with store_credential and pass ssh_credential (or set sshPrivateKey / sshPassword in the stack config)`);
    const attempts = o.attempts ?? 4;
    let last: Error | undefined;
    for (let i = 1; i <= attempts; i++) {
      try {
        return new SshSession(await dialOnce(t, o.readyTimeoutMs ?? 20_000), t);
      } catch (err) {
        last = err as Error;
        if ((err as { level?: string }).level === "client-authentication")
          throw new SshError("auth", `SSH to ${where(t)}: the host refused the credentials (${last.message}); check the user and key/password (for a non-root user, passwordless sudo is also needed)`);
        if (i < attempts) await sleep(1000 * 2 ** (i - 1));
      }
    }
    throw new SshError("dial", `SSH to ${where(t)} failed after ${attempts} attempts: ${last?.message}; check that the host is up, sshd listens on port ${t.port} and nothing blocks it, then run the operation again (every step is safe to repeat)`);
  }

  /**
   * Runs `script` with `sh -c` (as the SSH user; the scripts use sudo where root is needed), feeding `stdin` when
   * given — secrets travel on stdin, never in the command line. Rejects on a non-zero exit with the script's stderr.
   */
  run(step: string, script: string, o: { stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const timeoutMs = o.timeoutMs ?? 300_000;
    const t = this.target;
    return new Promise((resolve, reject) => {
      if (this.lost) return reject(new SshError("lost", `SSH to ${where(t)}: the connection was lost before "${step}" (${this.lost.message}); run the operation again`));
      let stdout = "";
      let stderr = "";
      let settled = false;
      const finish = (err?: SshError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve({ stdout, stderr });
      };
      const timer = setTimeout(() => finish(new SshError("timeout", `SSH to ${where(t)}: "${step}" did not finish within ${Math.round(timeoutMs / 1000)} s; look at the host, then run the operation again`)), timeoutMs);
      const onLost = () => finish(new SshError("lost", `SSH to ${where(t)}: the connection was lost during "${step}" (${this.lost?.message ?? "closed"}); the step may have run in part — run the operation again once the host is reachable (every step is safe to repeat)`));
      this.conn.once("close", onLost);
      this.conn.exec(`sh -c ${shellQuote(script)}`, (err, stream) => {
        if (err) {
          this.conn.off("close", onLost);
          return finish(new SshError("lost", `SSH to ${where(t)}: cannot start "${step}": ${err.message}`));
        }
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("close", (code: number | null | undefined, signal?: string) => {
          this.conn.off("close", onLost);
          if (code === 0) return finish();
          if (code === null || code === undefined) return onLost();
          finish(new SshError("step", `SSH to ${where(t)}: "${step}" failed (exit ${code}${signal ? `, signal ${signal}` : ""})${stderr.trim() ? `:\n${tail(stderr)}` : ""}`, code));
        });
        if (o.stdin !== undefined) stream.end(o.stdin);
        else stream.end();
      });
    });
  }

  /** Copies a local file to `remotePath` over SFTP (mode 0600: it is verified and installed by a later step). */
  upload(step: string, localPath: string, remotePath: string): Promise<void> {
    const t = this.target;
    return new Promise((resolve, reject) => {
      this.conn.sftp((err, sftp) => {
        if (err) return reject(new SshError("step", `SSH to ${where(t)}: "${step}": SFTP is not available (${err.message}); enable the sftp subsystem in sshd_config`));
        sftp.fastPut(localPath, remotePath, { mode: 0o600 }, (e) => {
          sftp.end();
          if (e) reject(new SshError(this.lost ? "lost" : "step", `SSH to ${where(t)}: "${step}": copying ${localPath} to ${remotePath} failed: ${e.message}`));
          else resolve();
        });
      });
    });
  }

  /** A TCP stream to `host:port` as seen from the SSH host (the API tunnel). */
  forward(host: string, port: number): Promise<NodeJS.ReadWriteStream> {
    return new Promise((resolve, reject) => {
      this.conn.forwardOut("127.0.0.1", 0, host, port, (err, stream) => (err ? reject(new SshError("step", `SSH to ${where(this.target)}: cannot forward to ${host}:${port} (${err.message}); AllowTcpForwarding must be on in sshd_config`)) : resolve(stream)));
    });
  }

  close(): void {
    this.conn.end();
  }
}

/** POSIX single-quoting. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
