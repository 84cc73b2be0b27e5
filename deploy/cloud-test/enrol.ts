/**
 * The lifecycle's "enrol a client and run a small collection" step: start a Velociraptor client on the test runner
 * with the deployment's client config, wait until the server lists it, collect Generic.Client.Info, wait for the
 * flow to finish and read its rows. The client process is always stopped. Starting the client is injected, so the
 * polling, collection and cleanup run against the API test server in `npm test`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { MegaraptorError } from "../../core/errors.js";
import type { VelociraptorClient } from "../../velociraptor/client.js";
import { vqlQuery } from "../../velociraptor/query.js";

export interface StartedClient {
  /** The hostname the enrolled client will report. */
  hostname: string;
  stop(): Promise<void>;
}

export type StartClient = (clientConfigYaml: string) => Promise<StartedClient>;

export interface Enrolment {
  client_id: string;
  hostname: string;
  flow_id: string;
  rows: number;
  columns: string[];
  seconds: number;
}

export class EnrolmentError extends MegaraptorError {
  constructor(step: string, detail: string) {
    super("ENROLMENT_FAILED", `enrolment ${step}: ${detail}`, { hint: "Check that the frontend port is reachable from the runner and that the client binary matches the server version; the client's stderr is in the job log." });
  }
}

/** Runs a real `velociraptor client` binary (MEGARAPTOR_TEST_CLIENT_BINARY) with the config in a private temp dir. */
export function binaryClient(binary: string, log: (s: string) => void = () => undefined): StartClient {
  return async (yaml) => {
    const dir = mkdtempSync(join(tmpdir(), "mr-enrol-"));
    const config = join(dir, "client.config.yaml");
    writeFileSync(config, yaml, { mode: 0o600 });
    const child = spawn(binary, ["--config", config, "client", "-v"], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", (d: Buffer) => log(d.toString().trimEnd()));
    return {
      hostname: hostname(),
      async stop() {
        child.kill("SIGTERM");
        await Promise.race([new Promise((r) => child.once("exit", r)), sleep(10_000)]);
        if (child.exitCode === null) child.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

async function poll<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new EnrolmentError(what, `not done after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(delay);
  }
}

export async function enrolAndCollect(api: VelociraptorClient, clientConfigYaml: string, start: StartClient, o: { timeoutMs?: number } = {}): Promise<Enrolment> {
  const t0 = Date.now();
  const timeoutMs = o.timeoutMs ?? 300_000;
  const started = await start(clientConfigYaml);
  try {
    const clientId = await poll("(client listed)", timeoutMs, async () => {
      const r = await api.queryAll(vqlQuery("SELECT client_id FROM clients() WHERE os_info.hostname = Host", { Host: started.hostname }));
      return r.rows[0] ? String(r.rows[0].client_id) : undefined;
    });
    const sched = await api.queryAll(vqlQuery("SELECT collect_client(client_id=ClientId, artifacts=ArtifactName, urgent=TRUE) AS Flow FROM scope()", { ClientId: clientId, ArtifactName: "Generic.Client.Info" }));
    const flowId = (sched.rows[0]?.Flow as { flow_id?: string } | null)?.flow_id;
    if (!flowId) throw new EnrolmentError("(collection)", "the server did not schedule Generic.Client.Info");
    const state = await poll("(collection finished)", timeoutMs, async () => {
      const r = await api.queryAll(vqlQuery("SELECT state FROM flows(client_id=ClientId, flow_id=FlowId)", { ClientId: clientId, FlowId: flowId }));
      const s = String(r.rows[0]?.state ?? "");
      return s === "FINISHED" || s === "ERROR" ? s : undefined;
    });
    if (state !== "FINISHED") throw new EnrolmentError("(collection)", `flow ${flowId} ended in ${state}`);
    const results = await api.queryAll(vqlQuery("SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", { ClientId: clientId, FlowId: flowId, ArtifactName: "Generic.Client.Info/BasicInformation" }));
    if (!results.rows.length) throw new EnrolmentError("(results)", `flow ${flowId} finished without rows`);
    return { client_id: clientId, hostname: started.hostname, flow_id: flowId, rows: results.rows.length, columns: results.columns, seconds: Math.round((Date.now() - t0) / 1000) };
  } finally {
    await started.stop();
  }
}
