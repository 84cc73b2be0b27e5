/**
 * What the SSH install resource does on the host, run by its dynamic provider (./provider.ts) inside Pulumi's
 * dynamic-provider host, over one ssh2 session per operation, with the scripts of ./scripts.ts:
 * - create: stage the binary (download with the pinned SHA-256 on the host, or upload) and verify it — a wrong one
 *   is refused before anything is installed — then the service user and folders, binary, config (0600), user
 *   bootstrap, unit; enable and start.
 * - update: only what changed is rewritten in place, then the service restarts. A config, users or version change
 *   never uninstalls the running server (review A8).
 * - delete: stop, disable, remove unit, binary, config, bootstrap and the user; the datastore stays unless asked.
 * - read (refresh): what is on the host (digests, service state); drift is repaired by the next `up`.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import * as s from "./scripts.js";
import { desired, have, withStoredCredentials, type Observed, type SshInstallInputs, type SshInstallOutputs } from "./plan.js";
import { SshSession } from "./session.js";

export { diffInstall } from "./plan.js";

async function inspect(session: SshSession): Promise<Observed> {
  const { stdout } = await session.run("inspect the installation", s.inspectScript(), { timeoutMs: 60_000 });
  const kv = Object.fromEntries(stdout.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]));
  return { binary: kv.binary ?? "", config: kv.config ?? "", bootstrap: kv.bootstrap ?? "", unit: kv.unit ?? "", active: kv.active ?? "" };
}

function fileSha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(path).on("error", reject).on("data", (d) => h.update(d)).on("end", () => resolve(h.digest("hex")));
  });
}

/** Brings the binary to the host's stage path and verifies it there; nothing else is touched yet. */
async function stageBinary(session: SshSession, b: SshInstallInputs["binary"]): Promise<string> {
  const stage = s.stagePath(randomBytes(6).toString("hex"));
  if (b.url) {
    await session.run("download the binary", s.stageDownloadScript(b.url, b.sha256, stage), { timeoutMs: 900_000 });
  } else if (b.path) {
    // Checked here too: a file changed since the program ran would otherwise be refused only on the host.
    const local = await fileSha256(b.path);
    if (local !== b.sha256.toLowerCase()) throw new Error(`binaryPath: ${b.path} now has SHA-256 ${local}, not ${b.sha256.toLowerCase()} as when the program ran; run the operation again`);
    await session.upload("upload the binary", b.path, stage);
    await session.run("verify the binary", s.verifyStagedBinaryScript(stage, b.sha256, b.path), { timeoutMs: 120_000 });
  } else {
    throw new Error("binary: neither a URL nor a local path was given");
  }
  return stage;
}

function firewallScript(open: number[], close: number[]): string {
  return [s.SUDO_SHIM, ...close.map((p) => `sudo ufw delete allow ${p}/tcp || true`), ...open.map((p) => `sudo ufw allow ${p}/tcp`)].join("\n");
}

/** Waits a moment after a (re)start and makes sure the server is still running; otherwise the journal explains. */
async function confirmRunning(session: SshSession): Promise<void> {
  await new Promise((r) => setTimeout(r, 1500));
  const state = (await session.run("check the service", `systemctl is-active ${s.SERVICE} || true`, { timeoutMs: 30_000 })).stdout.trim();
  if (state === "active") return;
  const journal = (await session.run("read the journal", s.journalScript(), { timeoutMs: 30_000 }).catch(() => ({ stdout: "" }))).stdout.trim();
  throw new Error(`${s.SERVICE} is ${state || "not running"} on ${session.target.host} after its start${journal ? `; its journal ends with:\n${journal}` : ""}`);
}

/**
 * Applies `news` over what `olds` left (nothing on create). The steps run in an order that keeps a running server
 * untouched until everything it needs is in place, and it is restarted once at the end.
 */
async function apply(session: SshSession, news: SshInstallInputs, olds: SshInstallOutputs | undefined, staged?: string): Promise<Observed> {
  const want = desired(news);
  const got = have(olds);
  const stage = staged ?? (want.binary !== got.binary ? await stageBinary(session, news.binary) : undefined);
  await session.run("prepare the host", s.prepareHostScript(news.datastore), { timeoutMs: 120_000 });
  let restart = got.active !== "active";
  if (stage) {
    await session.run("install the binary", s.installStagedBinaryScript(stage), { timeoutMs: 120_000 });
    restart = true;
  }
  if (want.config !== got.config) {
    await session.run("write the config", s.writeConfigScript(), { stdin: news.serverConfigYaml, timeoutMs: 60_000 });
    restart = true;
  }
  if (want.bootstrap !== got.bootstrap) {
    await session.run("write the user bootstrap", s.writeSecretFileScript(s.BOOTSTRAP), { stdin: news.bootstrapScript, timeoutMs: 60_000 });
    restart = true;
  }
  if (want.unit !== got.unit || olds?.datastore !== news.datastore) {
    await session.run("write the unit", s.writeUnitScript(), { stdin: news.unit, timeoutMs: 60_000 });
    restart = true;
  }
  const oldPorts = olds?.firewallPorts ?? [];
  const open = news.firewallPorts.filter((p) => !oldPorts.includes(p));
  const close = oldPorts.filter((p) => !news.firewallPorts.includes(p));
  if (open.length || close.length) await session.run("update the firewall", firewallScript(open, close), { timeoutMs: 120_000 });
  if (restart) {
    await session.run("start the service", s.restartScript(), { timeoutMs: 180_000 });
    await confirmRunning(session);
  }
  return inspect(session);
}

/**
 * A failure after the host was changed is reported as "created but not initialised" (the dynamic-provider host
 * passes `id` and `properties` on to the engine), so the state knows about the partial install: destroy removes it
 * and the next `up` completes it.
 */
function partial(err: unknown, id: string, props: SshInstallOutputs): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  return Object.assign(e, { id, properties: props, reasons: [e.message] });
}

const idOf = (i: SshInstallInputs) => `${s.SERVICE}@${i.connection.host}:${i.connection.port}`;

export async function createInstall(inputs: SshInstallInputs): Promise<{ id: string; outs: SshInstallOutputs }> {
  const session = await SshSession.open(inputs.connection);
  let touched = false;
  try {
    // Verified on the host before anything else happens there: a wrong binary leaves the host as it was.
    const stage = await stageBinary(session, inputs.binary);
    touched = true;
    const observed = await apply(session, inputs, undefined, stage);
    return { id: idOf(inputs), outs: { ...inputs, observed } };
  } catch (err) {
    if (!touched) throw err;
    const observed = await inspect(session).catch(() => ({ binary: "", config: "", bootstrap: "", unit: "", active: "" }));
    throw partial(err, idOf(inputs), { ...inputs, observed });
  } finally {
    session.close();
  }
}

export async function updateInstall(_id: string, olds: SshInstallOutputs, rawNews: SshInstallInputs): Promise<{ outs: SshInstallOutputs }> {
  const news = withStoredCredentials(rawNews, olds);
  const session = await SshSession.open(news.connection);
  try {
    return { outs: { ...news, observed: await apply(session, news, olds) } };
  } finally {
    session.close();
  }
}

export async function deleteInstall(_id: string, olds: SshInstallOutputs): Promise<void> {
  const session = await SshSession.open(olds.connection);
  try {
    if (olds.firewallPorts.length) await session.run("close the firewall", firewallScript([], olds.firewallPorts), { timeoutMs: 120_000 });
    await session.run("uninstall", s.uninstallScript(olds.datastore, olds.removeDatastoreOnDelete), { timeoutMs: 180_000 });
  } finally {
    session.close();
  }
}

/** Refresh: the host as it is. Nothing installed at all means the resource is gone (the next `up` installs it). */
export async function readInstall(id: string, props: SshInstallOutputs): Promise<{ id?: string; props?: SshInstallOutputs }> {
  const session = await SshSession.open(props.connection);
  try {
    const observed = await inspect(session);
    if (!observed.binary && !observed.config && !observed.unit) return {};
    return { id, props: { ...props, observed } };
  } finally {
    session.close();
  }
}
