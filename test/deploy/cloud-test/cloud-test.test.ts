/** The cloud suites' logic, with no cloud: tags and TTL, skip guards, budget, reaper selection, lifecycle order, parity. */
import { beforeEach, describe, expect, it } from "vitest";
import { checkBudget, estimateRunUsd } from "../../../deploy/cloud-test/budget.js";
import { skipReason } from "../../../deploy/cloud-test/guards.js";
import { runLifecycle } from "../../../deploy/cloud-test/lifecycle.js";
import { compareParity, type Observation } from "../../../deploy/cloud-test/parity.js";
import { reap, selectExpired } from "../../../deploy/cloud-test/reaper.js";
import { newTestRun, TAG_EXPIRES, TAG_RUN, ttlHours } from "../../../deploy/cloud-test/run.js";
import { parseDeploymentSettings } from "../../../deploy/request/index.js";
import { MemoryEngine } from "../../helpers/memory-engine.js";
import { installMocks, ofType, resetRegistrations, unwrapSecret, value, waitUntil } from "../../helpers/pulumi-mocks.js";

const SHA = "a".repeat(64);
const now = new Date("2026-11-24T10:00:00Z");

describe("test runs", () => {
  it("tag every run with its id, an expiry TTL ahead and the owner", () => {
    const r = newTestRun({ owner: "ci", ttlHours: 2, now });
    expect(r.tags).toEqual({ [TAG_RUN]: r.runId, [TAG_EXPIRES]: "2026-11-24T12:00:00.000Z", owner: "ci" });
    expect(ttlHours({})).toBe(2);
    expect(() => ttlHours({ MEGARAPTOR_CLOUD_TTL_HOURS: "100" })).toThrow(/MEGARAPTOR_CLOUD_TTL_HOURS: "100" is not a number from 0.1 to 48 \(hours\)/);
  });

  it("put the run tags on every cloud resource, with spot where allowed", async () => {
    await installMocks();
    resetRegistrations();
    const { buildDeployment } = await import("../../../deploy/program/build.js");
    const run = newTestRun({ owner: "ci", now });
    const out = await buildDeployment(parseDeploymentSettings({ target: "aws", profile: "minimal", deployment_id: "t-aws", hostname: "t.example.com", tags: run.tags, aws: { region: "eu-west-1", spot: true, binary_sha256: SHA } }));
    await value(out.apiClientYaml);
    await waitUntil(() => ofType("aws:ec2/volumeAttachment:VolumeAttachment").length > 0, "the AWS server's children");
    for (const t of ["aws:ec2/instance:Instance", "aws:ec2/securityGroup:SecurityGroup", "aws:ebs/volume:Volume", "aws:ec2/vpc:Vpc"]) expect(unwrapSecret(ofType(t)[0]!.inputs.tags).value[TAG_RUN], t).toBe(run.runId);
    expect(ofType("aws:ec2/instance:Instance")[0]!.inputs.instanceMarketOptions.marketType).toBe("spot");
  });
});

describe("skip guards", () => {
  it("name what is missing", () => {
    expect(skipReason("aws", true, {})).toMatch(/no AWS credentials/);
    expect(skipReason("aws", true, { AWS_ROLE_ARN: "arn", AWS_WEB_IDENTITY_TOKEN_FILE: "/t" })).toBeUndefined();
    expect(skipReason("azure", true, { AZURE_SUBSCRIPTION_ID: "s", AZURE_CLIENT_ID: "c", AZURE_TENANT_ID: "t" })).toMatch(/no Azure credentials/);
    expect(skipReason("azure", true, { AZURE_SUBSCRIPTION_ID: "s", AZURE_CLIENT_ID: "c", AZURE_TENANT_ID: "t", ARM_USE_OIDC: "true" })).toBeUndefined();
    expect(skipReason("aws", false, { AWS_PROFILE: "x" })).toMatch(/Pulumi CLI/);
  });
});

describe("budget guard", () => {
  it("estimates a run and refuses one above the remaining budget or the size limit", () => {
    expect(estimateRunUsd("aws", "t3.small", 2, false)).toBeCloseTo(0.0228 * 2 * 1.2, 4);
    expect(estimateRunUsd("aws", "t3.small", 2, true)).toBeLessThan(estimateRunUsd("aws", "t3.small", 2, false));
    expect(checkBudget({ provider: "azure", instanceType: "Standard_B1ms", hours: 2, spot: true, monthlyBudgetUsd: 10, spentThisMonthUsd: 1, maxVcpu: 2 }).remainingUsd).toBe(9);
    expect(() => checkBudget({ provider: "aws", instanceType: "m6i.2xlarge", hours: 2, spot: false, monthlyBudgetUsd: 100, spentThisMonthUsd: 0, maxVcpu: 4 })).toThrow(/8 vCPUs, above the limit of 4/);
    expect(() => checkBudget({ provider: "aws", instanceType: "t3.large", hours: 2, spot: false, monthlyBudgetUsd: 10, spentThisMonthUsd: 9.9, maxVcpu: 8 })).toThrow(/exceeds the remaining monthly budget/);
    expect(() => estimateRunUsd("aws", "p5.48xlarge", 1, false)).toThrow(/not in the allowed aws instance list/);
  });
});

describe("reaper", () => {
  let engine: MemoryEngine;
  beforeEach(async () => {
    engine = new MemoryEngine();
    const mk = (id: string, tags: Record<string, string>) => engine.up(parseDeploymentSettings({ target: "docker", deployment_id: id, hostname: "h", tags }), {});
    await mk("old-run", { [TAG_RUN]: "t1", [TAG_EXPIRES]: "2026-11-24T09:00:00Z" });
    await mk("fresh-run", { [TAG_RUN]: "t2", [TAG_EXPIRES]: "2026-11-24T11:00:00Z" });
    await mk("production", { [TAG_EXPIRES]: "2020-01-01T00:00:00Z" });
  });

  it("selects only expired test runs, never untagged resources", () => {
    const items: { tags: Record<string, string> }[] = [{ tags: { [TAG_RUN]: "a", [TAG_EXPIRES]: "2026-11-24T09:59:59Z" } }, { tags: { [TAG_RUN]: "b", [TAG_EXPIRES]: "bad" } }, { tags: { [TAG_EXPIRES]: "2000-01-01T00:00:00Z" } }];
    expect(selectExpired(items, now)).toEqual([items[0]]);
  });

  it("dry-run lists, a real run destroys expired test stacks and reports tagged leftovers", async () => {
    const dry = await reap(engine, { now, dryRun: true });
    expect(dry.wouldDestroy).toEqual(["old-run"]);
    expect(engine.records.get("old-run")!.status).toBe("active");
    const inventory = { provider: "aws" as const, listTestResources: async () => [{ provider: "aws" as const, id: "i-123", type: "ec2:instance", tags: { [TAG_RUN]: "t0", [TAG_EXPIRES]: "2026-11-24T08:00:00Z" } }] };
    const real = await reap(engine, { now, dryRun: false, inventories: [inventory] });
    expect(real.destroyed).toEqual(["old-run"]);
    expect(engine.records.get("old-run")!.status).toBe("destroyed");
    expect(engine.records.get("production")!.status).toBe("active");
    expect(real.leftovers.map((l) => l.id)).toEqual(["i-123"]);
  });
});

describe("lifecycle", () => {
  const settings = parseDeploymentSettings({ target: "docker", deployment_id: "life", hostname: "h" });
  const observed = { serverVersion: "0.77.2", shapes: { "info()": ["Hostname"] }, artifacts: ["Generic.Client.Info"] };

  it("runs deploy → healthy → observe → destroy → leftovers, tagging the deployment with the run", async () => {
    const engine = new MemoryEngine();
    const run = newTestRun({ owner: "ci" });
    const r = await runLifecycle(engine, settings, run, { waitHealthy: async () => undefined, observe: async () => observed, leftovers: async () => 0 });
    expect(r.steps).toEqual(["deploy", "wait healthy", "observe", "destroy", "check leftovers"]);
    expect(r.observation).toMatchObject({ provider: "docker", serverVersion: "0.77.2", leftovers: 0 });
    expect(engine.records.get("life")!.settings.tags[TAG_RUN]).toBe(run.runId);
    expect(engine.records.get("life")!.status).toBe("destroyed");
  });

  it("destroys in finally when a step fails", async () => {
    const engine = new MemoryEngine();
    const r = await runLifecycle(engine, settings, newTestRun({ owner: "ci" }), {
      waitHealthy: async () => {
        throw new Error("never healthy");
      },
      observe: async () => observed,
      leftovers: async () => 0,
    });
    expect(r.error).toBe("never healthy");
    expect(r.steps).toEqual(["deploy", "wait healthy", "destroy"]);
    expect(engine.records.get("life")!.status).toBe("destroyed");
  });
});

describe("parity", () => {
  const base: Observation = { provider: "aws", serverVersion: "0.77.2", shapes: { "info()": ["Hostname", "OS"] }, artifacts: ["A", "B"], leftovers: 0 };
  it("is equal for equal observations and names every difference otherwise", () => {
    expect(compareParity([base, { ...base, provider: "azure" }])).toEqual({ equal: true, differences: [] });
    const r = compareParity([base, { provider: "azure", serverVersion: "0.76.7", shapes: { "info()": ["Hostname"] }, artifacts: ["A", "C"], leftovers: 2 }]);
    expect(r.differences).toEqual([
      "server_version: aws=0.77.2, azure=0.76.7",
      "shape of info(): aws=[Hostname,OS], azure=[Hostname]",
      "artifacts missing on azure: B",
      "artifacts only on azure: C",
      "cleanup: 2 resource(s) left on azure",
    ]);
  });
});

describe("AWS inventory", () => {
  it("pages through GetResources filtered by the test-run tag and maps ARNs and tags", async () => {
    const { awsInventory } = await import("../../../deploy/cloud-test/inventory-aws.js");
    const sent: any[] = [];
    const pages = [
      { ResourceTagMappingList: [{ ResourceARN: "arn:aws:ec2:eu-west-1:123:instance/i-1", Tags: [{ Key: TAG_RUN, Value: "t1" }, { Key: TAG_EXPIRES, Value: "2026-11-24T09:00:00Z" }] }], PaginationToken: "p2" },
      { ResourceTagMappingList: [{ ResourceARN: "arn:aws:ec2:eu-west-1:123:volume/vol-2", Tags: [{ Key: TAG_RUN, Value: "t2" }, { Key: TAG_EXPIRES, Value: "2026-11-24T12:00:00Z" }] }], PaginationToken: "" },
    ];
    const inv = awsInventory({ send: async (cmd: any) => (sent.push(cmd.input), pages[sent.length - 1]) } as any);
    const all = await inv.listTestResources();
    expect(sent.map((s) => s.PaginationToken)).toEqual([undefined, "p2"]);
    expect(sent[0].TagFilters).toEqual([{ Key: TAG_RUN }]);
    expect(all.map((r) => [r.id, r.type])).toEqual([["arn:aws:ec2:eu-west-1:123:instance/i-1", "ec2:instance"], ["arn:aws:ec2:eu-west-1:123:volume/vol-2", "ec2:volume"]]);
    expect(selectExpired(all, now).map((r) => r.id)).toEqual(["arn:aws:ec2:eu-west-1:123:instance/i-1"]);
  });
});

describe("Azure inventory", () => {
  it("pages a Resource Graph query over resources and resource groups tagged with the test run", async () => {
    const { azureInventory, AZURE_TEST_QUERY } = await import("../../../deploy/cloud-test/inventory-azure.js");
    const sent: any[] = [];
    const pages = [
      { data: [{ id: "/subscriptions/s1/resourceGroups/mr-test-1", type: "microsoft.resources/subscriptions/resourcegroups", tags: { [TAG_RUN]: "t1", [TAG_EXPIRES]: "2026-11-24T09:00:00Z" } }], skipToken: "next" },
      { data: [{ id: "/subscriptions/s1/resourceGroups/mr-test-2/providers/Microsoft.Compute/virtualMachines/vm", type: "microsoft.compute/virtualmachines", tags: { [TAG_RUN]: "t2", [TAG_EXPIRES]: "2026-11-24T12:00:00Z" } }, { id: "/x", type: "t", tags: null }] },
    ];
    const inv = azureInventory("s1", { resources: async (q: any) => (sent.push(q), pages[sent.length - 1]) } as any);
    const all = await inv.listTestResources();
    expect(sent.map((q) => [q.subscriptions, q.options.skipToken])).toEqual([[["s1"], undefined], [["s1"], "next"]]);
    expect(sent[0].query).toBe(AZURE_TEST_QUERY);
    expect(AZURE_TEST_QUERY).toContain("union ResourceContainers");
    expect(AZURE_TEST_QUERY).toContain(`tags['${TAG_RUN}']`);
    expect(all.map((r) => r.type)).toEqual(["microsoft.resources/subscriptions/resourcegroups", "microsoft.compute/virtualmachines", "t"]);
    expect(selectExpired(all, now).map((r) => r.id)).toEqual(["/subscriptions/s1/resourceGroups/mr-test-1"]);
  });
});
