/**
 * The lifecycle's enrolment step against the API test server: "starting a client" adds it to the server's model (as a
 * real client would by enrolling), then the step must find it, collect Generic.Client.Info, wait and read the rows,
 * and always stop the client. Also: the lifecycle runs the step and parity compares what it collected.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VelociraptorClient } from "../../../velociraptor/client.js";
import { loadApiClientConfig } from "../../../velociraptor/config.js";
import { enrolAndCollect, type StartClient } from "../../../deploy/cloud-test/enrol.js";
import { runLifecycle } from "../../../deploy/cloud-test/lifecycle.js";
import { compareParity } from "../../../deploy/cloud-test/parity.js";
import { newTestRun } from "../../../deploy/cloud-test/run.js";
import { parseDeploymentSettings } from "../../../deploy/request/index.js";
import { MemoryEngine } from "../../helpers/memory-engine.js";
import { startTestServer, type TestServer } from "../../../test-server/index.js";

let vr: TestServer;
let api: VelociraptorClient;

beforeAll(async () => {
  vr = await startTestServer({ flowCompletionMs: 100 });
  api = VelociraptorClient.fromConfig(loadApiClientConfig({ path: vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-enrol-"))) }));
});
afterAll(async () => {
  api.close();
  await vr.stop();
});

/** Enrols after `delayMs`, as a client connecting to a fresh server would; records whether it was stopped. */
function fakeClient(delayMs: number, state: { stopped: boolean; config?: string }): StartClient {
  return async (yaml) => {
    state.config = yaml;
    const timer = setTimeout(() => {
      vr.model.org("root")!.clients.set("C.0e0e0e0e0e0e0e01", {
        client_id: "C.0e0e0e0e0e0e0e01",
        os_info: { system: "linux", hostname: "ci-runner-7", fqdn: "ci-runner-7.local", release: "Ubuntu 24.04", machine: "x86_64", mac_addresses: [] },
        agent_information: { version: "0.77.2", name: "velociraptor" },
        labels: [],
        first_seen_at: Date.now() * 1000,
        last_seen_at: Date.now() * 1000,
        last_ip: "127.0.0.1",
      });
    }, delayMs);
    return {
      hostname: "ci-runner-7",
      async stop() {
        clearTimeout(timer);
        state.stopped = true;
      },
    };
  };
}

describe("enrolAndCollect", () => {
  it("waits for the client to be listed, collects Generic.Client.Info, reads rows and stops the client", async () => {
    const state = { stopped: false } as { stopped: boolean; config?: string };
    const r = await enrolAndCollect(api, "Client: {server_urls: [https://x:8000/]}", fakeClient(700, state), { timeoutMs: 20_000 });
    expect(r).toMatchObject({ client_id: "C.0e0e0e0e0e0e0e01", hostname: "ci-runner-7", rows: 1 });
    expect(r.columns).toContain("Hostname");
    expect(vr.model.org("root")!.flows.get(`C.0e0e0e0e0e0e0e01/${r.flow_id}`)!.artifacts).toEqual(["Generic.Client.Info"]);
    expect(state).toMatchObject({ stopped: true, config: "Client: {server_urls: [https://x:8000/]}" });
  });

  it("fails with the step that timed out, and still stops the client", async () => {
    const state = { stopped: false };
    const never: StartClient = async () => ({ hostname: "never-enrols", stop: async () => void (state.stopped = true) });
    await expect(enrolAndCollect(api, "x", never, { timeoutMs: 1500 })).rejects.toThrow(/enrolment \(client listed\): not done after 2 s/);
    expect(state.stopped).toBe(true);
  });
});

describe("lifecycle with enrolment", () => {
  it("runs the step between observe and destroy, and parity compares the collected shapes", async () => {
    const engine = new MemoryEngine();
    const settings = parseDeploymentSettings({ target: "docker", deployment_id: "life-enrol", hostname: "h" });
    const observed = { serverVersion: "0.77.2", shapes: {}, artifacts: [] };
    const r = await runLifecycle(engine, settings, newTestRun({ owner: "ci" }), {
      waitHealthy: async () => undefined,
      observe: async () => observed,
      enrol: async () => ({ client_id: "C.1", hostname: "h", flow_id: "F.1", rows: 1, columns: ["Hostname", "OS"], seconds: 3 }),
      leftovers: async () => 0,
    });
    expect(r.steps).toEqual(["deploy", "wait healthy", "observe", "enrol client + collect", "destroy", "check leftovers"]);
    expect(r.observation!.enrolment).toEqual({ rows: 1, columns: ["Hostname", "OS"] });
    const other = { ...r.observation!, provider: "azure", enrolment: { rows: 1, columns: ["Hostname"] } };
    expect(compareParity([r.observation!, other]).differences).toEqual(["shape of Generic.Client.Info: docker=[Hostname,OS], azure=[Hostname]"]);
    expect(compareParity([r.observation!, { ...other, enrolment: undefined }]).differences).toEqual(["client enrolment: docker=yes, azure=no"]);
  });
});
