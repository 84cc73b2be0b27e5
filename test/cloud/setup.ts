/** Shared pieces of the real cloud suites (run by `npm run test:cloud`, never by `npm test`). */
import { execFileSync } from "node:child_process";
import { parse } from "yaml";
import { VelociraptorClient } from "../../mcp/velociraptor/client.js";
import { parseApiClientYaml } from "../../mcp/velociraptor/config.js";
import { vqlQuery } from "../../mcp/velociraptor/vql.js";
import type { DeploymentRecord } from "../../stacks/automation/engine.js";
import { skipReason, type Provider } from "../../stacks/cloud-test/guards.js";
import type { LifecycleSteps } from "../../stacks/cloud-test/lifecycle.js";
import { waitHealthy } from "../../stacks/health/index.js";
import { parseDeploymentSettings, type DeploymentSettings } from "../../stacks/program/settings.js";

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
    deploymentId: id,
    hostname: process.env.MEGARAPTOR_TEST_HOSTNAME ?? `${id}.invalid`,
    aws: p === "aws" ? { region: process.env.AWS_REGION ?? "eu-west-1", spot: true, instanceType: "t3.small", elasticIp: true, adminCidrs: [process.env.MEGARAPTOR_TEST_ADMIN_CIDR ?? "0.0.0.0/32"], binarySha256: sha } : undefined,
    azure: p === "azure" ? { location: process.env.MEGARAPTOR_AZURE_LOCATION ?? "westeurope", spot: true, vmSize: "Standard_B1ms", adminCidrs: [process.env.MEGARAPTOR_TEST_ADMIN_CIDR ?? "0.0.0.0/32"], sshPublicKey: process.env.MEGARAPTOR_TEST_SSH_PUBLIC_KEY ?? "", binarySha256: sha } : undefined,
  });
}

function out(r: DeploymentRecord, k: string): string | undefined {
  const v = r.outputs?.[k]?.value;
  return typeof v === "string" ? v : undefined;
}

export const realSteps: LifecycleSteps = {
  async waitHealthy(r) {
    await waitHealthy({ deploymentId: r.id, serverUrl: out(r, "serverUrl"), guiUrl: out(r, "guiUrl"), apiClientYaml: out(r, "apiClientYaml") }, { timeoutSeconds: 900 });
  },
  async observe(r) {
    const client = VelociraptorClient.fromConfig(parseApiClientYaml(out(r, "apiClientYaml")!, r.id));
    try {
      const info = await client.queryAll("SELECT * FROM info()");
      const version = await client.queryAll("SELECT config.server_version.version AS V FROM scope()");
      const clients = await client.queryAll("SELECT client_id FROM clients() LIMIT 1");
      const arts = await client.queryAll(vqlQuery("SELECT name FROM artifact_definitions() WHERE name =~ Pattern", { Pattern: "^(Generic|Linux|Windows)\\.(Client|System|Sys)\\." }), { maxRows: 5000 });
      return { serverVersion: String(version.rows[0]?.V ?? ""), shapes: { "info()": info.columns, "clients()": clients.columns }, artifacts: arts.rows.map((x) => String(x.name)).sort() };
    } finally {
      client.close();
    }
  },
  async leftovers() {
    // Provider inventories (tag queries) are wired by the operator; the reaper reports them after each run.
    return 0;
  },
};

export const parseYaml = parse;
