/** Agents of a deployment: install the client over SSH on a list of hosts, and see which endpoints enrolled. */
import { DEFAULT_VELOCIRAPTOR_VERSION, releaseBinaryUrl } from "../../components/versions.js";
import { readPrivateKeyFile } from "../agents/key-file.js";
import type { HostResult } from "../agents/ssh.js";
import type { OperationHooks } from "./deploy.js";
import { requireDeployment, secretOutput, secretsFor } from "./index.js";

export interface SshAgentRequest {
  deployment_id: string;
  /** host or host:port */
  targets: string[];
  username: string;
  ssh_credential?: string;
  key_path?: string;
  target_os: "linux" | "macos";
  port: number;
  binary_sha256: string;
  binary_url?: string;
  install_prefix?: string;
  start_service: boolean;
}

/** One result per host: a failing host does not hide the others. */
export async function installAgentsOverSsh(a: SshAgentRequest, hooks: OperationHooks = {}): Promise<HostResult[]> {
  // ssh2 loads its crypto bindings on import: only sessions that install agents pay for it.
  const { installOverSsh } = await import("../agents/ssh.js");
  const r = await requireDeployment(a.deployment_id);
  const config = await secretOutput(a.deployment_id, "clientConfigYaml");
  const secrets = secretsFor({ sshCredential: a.ssh_credential });
  const privateKey = (secrets.sshPrivateKey as string | undefined) ?? (a.key_path ? readPrivateKeyFile(a.key_path) : undefined);
  const os = a.target_os === "macos" ? "darwin" : "linux";
  const version = r.settings.version ?? DEFAULT_VELOCIRAPTOR_VERSION;
  const binary = { url: a.binary_url ?? releaseBinaryUrl(version, os === "linux" ? "linux-amd64" : "darwin-amd64"), sha256: a.binary_sha256 };
  const results: HostResult[] = [];
  for (const [i, t] of a.targets.entries()) {
    const [host, port] = t.includes(":") ? [t.slice(0, t.lastIndexOf(":")), Number(t.slice(t.lastIndexOf(":") + 1))] : [t, a.port];
    hooks.progress?.(i, a.targets.length, `installing on ${host}`);
    results.push(await installOverSsh({ host, port, user: a.username, privateKey, password: secrets.sshPassword as string | undefined, os }, config, binary, { prefix: a.install_prefix, startService: a.start_service }));
  }
  return results;
}

/** The deployment's enrolled clients, asked through its own API client (label or search verbs). */
export async function enrolledClients(id: string, o: { clientSearch?: string; labels?: string[] }): Promise<Record<string, unknown>[]> {
  const { parseApiClientYaml } = await import("../../velociraptor/config.js");
  const { VelociraptorClient } = await import("../../velociraptor/client.js");
  const { vqlQuery } = await import("../../velociraptor/query.js");
  const client = VelociraptorClient.fromConfig(parseApiClientYaml(await secretOutput(id, "apiClientYaml"), `deployment ${id}`));
  try {
    const search = o.clientSearch ?? (o.labels?.length ? `label:${o.labels[0]}` : "all");
    const { rows } = await client.queryAll(vqlQuery("SELECT client_id, os_info.hostname AS hostname, os_info.system AS os, labels, last_seen_at FROM clients(search=Search)", { Search: search }), { maxRows: 10_000 });
    const labels = o.labels ?? [];
    return labels.length
      ? rows.filter((r) => {
          const have = r.labels;
          return Array.isArray(have) && labels.every((l) => have.includes(l));
        })
      : rows;
  } finally {
    client.close();
  }
}
