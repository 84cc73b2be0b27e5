/**
 * The SSH install resource's inputs, outputs and diff: pure, so the provider, the mocks and the tests share them.
 * See ./install.ts for what each operation does on the host.
 */
import { createHash } from "node:crypto";
import type { SshTarget } from "./session.js";

export interface SshInstallInputs {
  connection: SshTarget;
  /** Where the binary comes from: a URL downloaded on the host, or a local file uploaded; pinned by its SHA-256. */
  binary: { url?: string; path?: string; sha256: string };
  datastore: string;
  removeDatastoreOnDelete: boolean;
  serverConfigYaml: string;
  /** The user bootstrap script (components/common/users.ts), run by the unit before every start. */
  bootstrapScript: string;
  unit: string;
  /** ufw ports to open (empty: none). */
  firewallPorts: number[];
}

/** What an install looks like on the host: SHA-256 of each file ("" when missing), the service state. */
export interface Observed {
  binary: string;
  config: string;
  bootstrap: string;
  unit: string;
  active: string;
}

export interface SshInstallOutputs extends SshInstallInputs {
  observed: Observed;
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** What the host should look like for these inputs. */
export function desired(i: SshInstallInputs): Observed {
  return { binary: i.binary.sha256.toLowerCase(), config: sha(i.serverConfigYaml), bootstrap: sha(i.bootstrapScript), unit: sha(i.unit), active: "active" };
}

/** The previous state's view of the host: what refresh read, or what the last operation left. */
export function have(olds: SshInstallOutputs | undefined): Observed {
  return olds?.observed ?? { binary: "", config: "", bootstrap: "", unit: "", active: "" };
}

/** Later operations keep working when the credentials are not passed again: the state holds them (secret). */
export function withStoredCredentials(news: SshInstallInputs, olds?: SshInstallInputs): SshInstallInputs {
  if (news.connection.privateKey || news.connection.password || !olds) return news;
  return { ...news, connection: { ...news.connection, privateKey: olds.connection.privateKey, password: olds.connection.password } };
}

const sameMachine = (a: SshTarget, b: SshTarget) => a.host === b.host && Number(a.port) === Number(b.port);

export interface InstallDiff {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
  /** What an update would do, for tests and messages. */
  steps: string[];
}

/**
 * In place unless the host itself changed. A different host is a replacement, deleted first: create-before-delete
 * would, on the same machine under another name, uninstall the new server (review A8).
 */
export function diffInstall(olds: SshInstallOutputs, rawNews: SshInstallInputs): InstallDiff {
  const news = withStoredCredentials(rawNews, olds);
  if (!sameMachine(olds.connection, news.connection)) return { changes: true, replaces: ["connection"], deleteBeforeReplace: true, steps: ["reinstall on the new host"] };
  const want = desired(news);
  const got = have(olds);
  const steps: string[] = [];
  if (want.binary !== got.binary) steps.push("binary");
  if (want.config !== got.config) steps.push("config");
  if (want.bootstrap !== got.bootstrap) steps.push("users");
  if (want.unit !== got.unit || olds.datastore !== news.datastore) steps.push("unit");
  if (got.active !== "active") steps.push("start");
  if (JSON.stringify([...olds.firewallPorts].sort()) !== JSON.stringify([...news.firewallPorts].sort())) steps.push("firewall");
  const stateOnly =
    olds.connection.user !== news.connection.user ||
    olds.connection.privateKey !== news.connection.privateKey ||
    olds.connection.password !== news.connection.password ||
    olds.removeDatastoreOnDelete !== news.removeDatastoreOnDelete ||
    olds.binary.url !== news.binary.url ||
    olds.binary.path !== news.binary.path;
  return { changes: steps.length > 0 || stateOnly, replaces: [], deleteBeforeReplace: false, steps };
}

