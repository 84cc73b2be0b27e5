/** Shared pieces of the real cloud suites (run by `npm run test:cloud`, never by `npm test`). */
import { execFileSync } from "node:child_process";
import { parse } from "yaml";
import { VelociraptorClient } from "../../velociraptor/client.js";
import { parseApiClientYaml } from "../../velociraptor/config.js";
import { vqlQuery } from "../../velociraptor/query.js";
import type { DeploymentRecord } from "../../deploy/automation/engine.js";
import { skipReason, type Provider } from "../../deploy/cloud-test/guards.js";
import { binaryClient, enrolAndCollect } from "../../deploy/cloud-test/enrol.js";
import type { LifecycleSteps } from "../../deploy/cloud-test/lifecycle.js";
import { TAG_RUN } from "../../deploy/cloud-test/run.js";
import { waitHealthy } from "../../deploy/health/index.js";
import { parseDeploymentSettings, type DeploymentSettings } from "../../deploy/request/index.js";

export function hasPulumi(): boolean {
  try {
    execFileSync("pulumi", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const PROVIDERS: Provider[] = (process.env.MEGARAPTOR_CLOUD ? [process.env.MEGARAPTOR_CLOUD] : ["aws", "azure"]) as Provider[];

export function reasonToSkip(p: Provider): string | undefined {
  const r = skipReason(p, hasPulumi());
  if (r) console.warn(`skipping ${p} cloud suite: ${r}`);
  return r;
}

/** Settings for a small, cheap test server on the provider (spot, rapid profile). */
export function testSettings(p: Provider, id: string, profile: "minimal" | "rapid" = "rapid"): DeploymentSettings {
  const sha = process.env.MEGARAPTOR_TEST_BINARY_SHA256 ?? "";
  return parseDeploymentSettings({
    target: p,
    profile,
    deployment_id: id,
    hostname: process.env.MEGARAPTOR_TEST_HOSTNAME ?? `${id}.invalid`,
    aws: p === "aws" ? { region: process.env.AWS_REGION ?? "eu-west-1", spot: true, instance_type: "t3.small", elastic_ip: true, admin_cidrs: [process.env.MEGARAPTOR_TEST_ADMIN_CIDR ?? "0.0.0.0/32"], binary_sha256: sha } : undefined,
    azure: p === "azure" ? { location: process.env.MEGARAPTOR_AZURE_LOCATION ?? "westeurope", spot: true, vm_size: "Standard_B1ms", admin_cidrs: [process.env.MEGARAPTOR_TEST_ADMIN_CIDR ?? "0.0.0.0/32"], ssh_public_key: process.env.MEGARAPTOR_TEST_SSH_PUBLIC_KEY ?? "", binary_sha256: sha } : undefined,
  });
}

function out(r: DeploymentRecord, k: string): string | undefined {
  const v = r.outputs?.[k]?.value;
  return typeof v === "string" ? v : undefined;
}

/** Resources still tagged with `runId`, polled because tag inventories lag behind deletions by minutes. */
async function taggedLeft(p: Provider, runId: string): Promise<number> {
  const inventory =
    p === "aws"
      ? (await import("../../deploy/cloud-test/inventory-aws.js")).awsInventory()
      : process.env.AZURE_SUBSCRIPTION_ID
        ? (await import("../../deploy/cloud-test/inventory-azure.js")).azureInventory(process.env.AZURE_SUBSCRIPTION_ID)
        : undefined;
  if (!inventory) {
    console.warn(`[${p}] no inventory (set AZURE_SUBSCRIPTION_ID): leftovers not counted`);
    return 0;
  }
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const left = (await inventory.listTestResources()).filter((r) => r.tags[TAG_RUN] === runId);
    if (!left.length || Date.now() > deadline) {
      for (const r of left) console.warn(`[${p}] left behind: ${r.type} ${r.id}`);
      return left.length;
    }
    await new Promise((r) => setTimeout(r, 30_000));
  }
}

/** The real steps for one provider: health, API observation, client enrolment (when a client binary is given), leftovers. */
export function realStepsFor(p: Provider): LifecycleSteps {
  const binary = process.env.MEGARAPTOR_TEST_CLIENT_BINARY;
  return {
    ...realSteps,
    async enrol(r) {
      if (!binary) {
        console.warn(`[${p}] client enrolment skipped: set MEGARAPTOR_TEST_CLIENT_BINARY to a velociraptor binary of the server's version`);
        return undefined;
      }
      const yaml = out(r, "clientConfigYaml");
      if (!yaml) throw new Error("the deployment has no clientConfigYaml output");
      const api = VelociraptorClient.fromConfig(parseApiClientYaml(out(r, "apiClientYaml")!, r.id));
      try {
        return await enrolAndCollect(api, yaml, binaryClient(binary, (l) => console.warn(`[${p} client] ${l}`)), { timeoutMs: 600_000 });
      } finally {
        api.close();
      }
    },
    leftovers: (runId) => taggedLeft(p, runId),
  };
}

export const realSteps: LifecycleSteps = {
  async waitHealthy(r) {
    await waitHealthy({ deploymentId: r.id, serverUrl: out(r, "serverUrl"), guiUrl: out(r, "guiUrl"), apiClientYaml: out(r, "apiClientYaml") }, { timeoutSeconds: 900 });
  },
  async observe(r) {
    const client = VelociraptorClient.fromConfig(parseApiClientYaml(out(r, "apiClientYaml")!, r.id));
    try {
      // info() needs MACHINE_STATE, which the deployment's api,investigator key lacks (vql/info.go 73-77): its shape is
      // empty then on every provider alike, instead of failing the observation.
      const info = await client.queryAll("SELECT * FROM info()", { failOnVqlError: false });
      const version = await client.queryAll("SELECT config.server_version.version AS V FROM scope()");
      const clients = await client.queryAll("SELECT client_id FROM clients() LIMIT 1");
      const arts = await client.queryAll(vqlQuery("SELECT name FROM artifact_definitions() WHERE name =~ Pattern", { Pattern: "^(Generic|Linux|Windows)\\.(Client|System|Sys)\\." }), { maxRows: 5000 });
      return { serverVersion: String(version.rows[0]?.V ?? ""), shapes: { "info()": info.columns, "clients()": clients.columns }, artifacts: arts.rows.map((x) => String(x.name)).sort() };
    } finally {
      client.close();
    }
  },
  async leftovers() {
    // Provider-independent default; realStepsFor() counts through the provider's tag inventory.
    return 0;
  },
};

export const parseYaml = parse;
