/**
 * A real Debian bookworm host for the SSH deployment tests: systemd as PID 1 and sshd, in a Docker container made
 * from the image `scripts/host-image.sh` builds, its SSH port published on 127.0.0.1 only, root logging in with a
 * key pair made for this run. Returns a reason instead when Docker, the image or systemd are not available, so
 * the suites skip with that reason printed.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ssh2 from "ssh2";

// ssh2 is CommonJS and Node's ESM loader does not see `utils` as a named export: take both from the default.
const { Client, utils } = ssh2;

const SCRIPT = fileURLToPath(new URL("../../scripts/host-image.sh", import.meta.url));
/**
 * A bridge of our own: the host reaches the machine running the tests (for the HTTP download) only at this
 * bridge's gateway, and masquerading is off so nothing in it reaches beyond the bridge.
 */
export const TEST_HOST_NETWORK = "megaraptor-test-host";
const LABEL = "megaraptor.test-host";

/**
 * What systemd needs from `docker run`, least privilege first. The capability set is what works here: runc refuses
 * `--privileged` on this machine because CAP_SYS_RESOURCE is outside its bounding set ("unable to apply caps").
 * `--privileged` stays as the fallback for cgroup v2 hosts, where a non-privileged container's /sys/fs/cgroup is
 * read-only and systemd cannot create its control groups.
 */
export const SYSTEMD_RUN_FLAGS: ReadonlyArray<{ name: string; flags: readonly string[] }> = [
  { name: "cap-sys-admin", flags: ["--cap-add", "SYS_ADMIN", "--tmpfs", "/run", "--tmpfs", "/run/lock", "--cgroupns=private"] },
  { name: "privileged", flags: ["--privileged", "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw"] },
];

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestHost {
  ok: true;
  /** Where the published SSH port listens: loopback only. */
  host: "127.0.0.1";
  port: number;
  username: "root";
  /** OpenSSH-format ed25519 key made for this run; its public half is root's only authorized key. */
  privateKey: string;
  /** The address the container reaches this machine at (its bridge's gateway): bind test servers here. */
  gateway: string;
  /** The container's own address on the bridge, for servers that admit only it. */
  address: string;
  containerId: string;
  image: string;
  /** Which of SYSTEMD_RUN_FLAGS booted systemd here. */
  runFlags: string;
  /** `running`, or `degraded` with the failed units listed in `degradedUnits`. */
  systemState: "running" | "degraded";
  degradedUnits: string;
  /** Runs `sh -c cmd` as root inside the container through `docker exec` (not SSH). */
  exec(cmd: string, input?: string): Promise<ExecResult>;
  /** Removes the container; safe to call twice. */
  stop(): Promise<void>;
}

export interface TestHostUnavailable {
  ok: false;
  reason: string;
}

function run(cmd: string, args: readonly string[], input?: string, timeoutMs = 60_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      const code = (err as { code?: unknown }).code;
      // A number is the command's exit status; ENOENT means the command itself is missing (the shell's 127).
      if (typeof code === "number") return resolve({ code, stdout, stderr });
      resolve({ code: code === "ENOENT" ? 127 : -1, stdout, stderr: `${stderr}${err.message}` });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const docker = (args: readonly string[], input?: string, timeoutMs?: number) => run("docker", args, input, timeoutMs);
const oneLine = (s: string) => s.trim().split("\n").slice(-3).join(" | ");

/** The image name the build script produces; `MEGARAPTOR_TEST_HOST_IMAGE` overrides it. */
export function testHostImage(): string {
  return process.env.MEGARAPTOR_TEST_HOST_IMAGE ?? execFileSync("bash", [SCRIPT, "--image-name"], { encoding: "utf8" }).trim();
}

/** Why the last build failed, as scripts/host-image.sh recorded it. */
function lastBuildFailure(): string | undefined {
  const status = join(process.env.MEGARAPTOR_CACHE ?? join(homedir(), ".cache", "megaraptor"), "host", "status");
  if (!existsSync(status)) return undefined;
  const text = readFileSync(status, "utf8").trim();
  return text.startsWith("failed:") ? text : undefined;
}

async function ensureNetwork(): Promise<{ gateway: string } | { reason: string }> {
  const inspect = () => docker(["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", TEST_HOST_NETWORK]);
  let found = await inspect();
  if (found.code !== 0) {
    const made = await docker(["network", "create", "--driver", "bridge", "--label", LABEL, "--opt", "com.docker.network.bridge.enable_ip_masquerade=false", TEST_HOST_NETWORK]);
    // Another test file may have made it in between: only the inspect below decides.
    found = await inspect();
    if (found.code !== 0) return { reason: `cannot create the Docker network ${TEST_HOST_NETWORK}: ${oneLine(made.stderr)}` };
  }
  const gateway = found.stdout.trim();
  return gateway ? { gateway } : { reason: `the Docker network ${TEST_HOST_NETWORK} has no gateway address` };
}

/** Runs `cmd` over SSH with the given credentials; resolves with its exit code and output. */
export function sshExec(target: { host: string; port: number; username: string; privateKey: string }, cmd: string, timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const conn = new Client();
    const timer = setTimeout(() => {
      conn.end();
      reject(new Error(`ssh ${target.username}@${target.host}:${target.port} "${cmd}" timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    conn
      .on("ready", () => {
        conn.exec(cmd, (err, stream) => {
          if (err) {
            clearTimeout(timer);
            conn.end();
            reject(err);
            return;
          }
          let stdout = "";
          let stderr = "";
          stream.on("data", (d: Buffer) => (stdout += d.toString()));
          stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
          stream.on("close", (code: number | null) => {
            clearTimeout(timer);
            conn.end();
            resolve({ code: code ?? -1, stdout, stderr });
          });
        });
      })
      .on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      })
      .connect({ host: target.host, port: target.port, username: target.username, privateKey: target.privateKey, readyTimeout: 10_000 });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for the end of boot; returns the final state and what failed, or why it never got there. */
async function waitForSystemd(id: string, deadline: number): Promise<{ state: "running" | "degraded"; failed: string } | { reason: string }> {
  let last = "";
  while (Date.now() < deadline) {
    const r = await docker(["exec", id, "systemctl", "is-system-running"], undefined, 10_000);
    last = r.stdout.trim() || oneLine(r.stderr);
    if (last === "running") return { state: "running", failed: "" };
    if (last === "degraded") {
      const failed = await docker(["exec", id, "systemctl", "--failed", "--no-legend", "--plain"]);
      return { state: "degraded", failed: failed.stdout.trim() };
    }
    const alive = await docker(["inspect", "-f", "{{.State.Running}}", id]);
    if (alive.stdout.trim() !== "true") {
      const logs = await docker(["logs", "--tail", "5", id]);
      return { reason: `the container exited during boot: ${oneLine(logs.stdout + logs.stderr)}` };
    }
    await sleep(250);
  }
  return { reason: `systemd did not finish booting (systemctl is-system-running: ${last || "no answer"})` };
}

async function waitForSshd(target: { host: string; port: number; username: string; privateKey: string }, deadline: number): Promise<string | undefined> {
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await sshExec(target, "true", 10_000);
      if (r.code === 0) return undefined;
      last = `exit ${r.code}: ${oneLine(r.stderr)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  return `sshd did not accept root's key on ${target.host}:${target.port} (${last})`;
}

const running = new Set<string>();
// A test process that dies before its afterAll still removes its hosts.
process.once("exit", () => {
  for (const id of running) {
    try {
      execFileSync("docker", ["rm", "-f", id], { stdio: "ignore", timeout: 10_000 });
    } catch {
      // The container is labelled megaraptor.test-host: `docker rm -f $(docker ps -aq -f label=megaraptor.test-host)` finds it.
    }
  }
});

/** Starts a test host, or says why it cannot. Boot plus SSH readiness is bounded by `timeoutMs`. */
export async function startTestHost(opts: { timeoutMs?: number } = {}): Promise<TestHost | TestHostUnavailable> {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const info = await docker(["info", "--format", "{{.ServerVersion}}"], undefined, 15_000);
  if (info.code === 127) return { ok: false, reason: "the docker CLI is not installed (apt-get install docker.io)" };
  if (info.code !== 0) return { ok: false, reason: `the Docker daemon is not reachable (${oneLine(info.stderr)}); start dockerd` };

  let image: string;
  try {
    image = testHostImage();
  } catch (err) {
    return { ok: false, reason: `cannot name the test host image: ${(err as Error).message}` };
  }
  if ((await docker(["image", "inspect", image])).code !== 0) {
    const failure = lastBuildFailure();
    return { ok: false, reason: `the Docker image ${image} is not built: run scripts/host-image.sh (needs root and debootstrap)${failure ? `; its last run ${failure}` : ""}` };
  }

  const network = await ensureNetwork();
  if ("reason" in network) return { ok: false, reason: network.reason };

  const keys = utils.generateKeyPairSync("ed25519");
  const failures: string[] = [];
  for (const variant of SYSTEMD_RUN_FLAGS) {
    const deadline = Date.now() + timeoutMs;
    const name = `megaraptor-test-host-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const created = await docker([
      "run", "-d", "--name", name, "--hostname", "test-host", "--label", LABEL,
      "--network", TEST_HOST_NETWORK,
      // systemd, not docker-init, must be PID 1; SIGRTMIN+3 asks it to halt cleanly on `docker stop`.
      "--init=false", "--stop-signal", "SIGRTMIN+3",
      ...variant.flags,
      "-p", "127.0.0.1::22",
      image, "/sbin/init",
    ]);
    const id = created.stdout.trim();
    if (created.code !== 0) {
      if (id) await docker(["rm", "-f", id]);
      else await docker(["rm", "-f", name]);
      failures.push(`${variant.name}: docker run failed: ${oneLine(created.stderr)}`);
      continue;
    }
    running.add(id);
    const remove = async () => {
      if (!running.has(id)) return;
      await docker(["rm", "-f", "-v", id]);
      running.delete(id);
    };

    const booted = await waitForSystemd(id, deadline);
    if ("reason" in booted) {
      failures.push(`${variant.name}: ${booted.reason}`);
      await remove();
      continue;
    }
    const installed = await docker(["exec", "-i", id, "sh", "-c", "umask 077 && mkdir -p /root/.ssh && cat > /root/.ssh/authorized_keys"], keys.public + "\n");
    const port = Number((await docker(["port", id, "22/tcp"])).stdout.trim().split("\n")[0]?.match(/^127\.0\.0\.1:(\d+)$/)?.[1]);
    const address = (await docker(["inspect", "-f", `{{(index .NetworkSettings.Networks "${TEST_HOST_NETWORK}").IPAddress}}`, id])).stdout.trim();
    if (installed.code !== 0 || !port || !address) {
      await remove();
      return { ok: false, reason: `the test host booted but could not be set up (authorized_keys: exit ${installed.code} ${oneLine(installed.stderr)}; published port: ${port || "none on 127.0.0.1"}; address: ${address || "none"})` };
    }
    const target = { host: "127.0.0.1" as const, port, username: "root" as const, privateKey: keys.private };
    const sshProblem = await waitForSshd(target, deadline);
    if (sshProblem) {
      await remove();
      return { ok: false, reason: sshProblem };
    }
    return {
      ok: true,
      ...target,
      gateway: network.gateway,
      address,
      containerId: id,
      image,
      runFlags: variant.flags.join(" "),
      systemState: booted.state,
      degradedUnits: booted.failed,
      exec: (cmd, input) => docker(["exec", ...(input === undefined ? [] : ["-i"]), id, "sh", "-c", cmd], input),
      stop: remove,
    };
  }
  return { ok: false, reason: `systemd did not boot in a container with any of the flag sets tried: ${failures.join("; ")}` };
}
