/**
 * Installs the Velociraptor client on hosts directly over SSH (ssh2), for when no Pulumi CLI is present or a quick
 * rollout is wanted: the client config is uploaded through stdin to a private temp file, then the same install script
 * SshAgents uses runs. Results are per host — one failing host does not hide the others.
 */
import { randomBytes } from "node:crypto";
import { Client as SshClient } from "ssh2";
import { installAgentScript, type InstallOptions } from "../../components/agents/ssh-agents.js";

export interface HostResult {
  host: string;
  ok: boolean;
  exitCode: number | null;
  output: string;
}

function exec(c: SshClient, command: string, stdin?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, stream) => {
      if (err) return reject(err);
      let out = "";
      stream.on("data", (d: Buffer) => (out += d.toString()));
      stream.stderr.on("data", (d: Buffer) => (out += d.toString()));
      stream.on("close", (code: number | null) => resolve({ code, out }));
      if (stdin !== undefined) stream.end(stdin);
      else stream.end();
    });
  });
}

export async function installOverSsh(
  host: { host: string; port: number; user: string; privateKey?: string; password?: string; os: "linux" | "darwin" },
  clientConfigYaml: string,
  binary: { url: string; sha256: string },
  o: Omit<InstallOptions, "configFile"> = {},
): Promise<HostResult> {
  const c = new SshClient();
  try {
    await new Promise<void>((resolve, reject) => {
      c.once("ready", () => resolve());
      c.once("error", reject);
      try {
        c.connect({ host: host.host, port: host.port, username: host.user, privateKey: host.privateKey, password: host.password, readyTimeout: 15_000 });
      } catch (err) {
        reject(err);
      }
    });
    const tmp = `/tmp/megaraptor-client-${randomBytes(6).toString("hex")}.yaml`;
    const up = await exec(c, `umask 077; cat > ${tmp}`, clientConfigYaml);
    if (up.code !== 0) return { host: host.host, ok: false, exitCode: up.code, output: `could not upload the config: ${up.out.slice(-500)}` };
    const r = await exec(c, "sh -s", installAgentScript(host.os, binary, { ...o, configFile: tmp }));
    return { host: host.host, ok: r.code === 0, exitCode: r.code, output: r.out.slice(-1000) };
  } catch (err) {
    return { host: host.host, ok: false, exitCode: null, output: (err as Error).message };
  } finally {
    c.end();
  }
}
