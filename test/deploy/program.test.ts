import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseDeploymentSettings } from "../../deploy/program/settings.js";
import { installMocks, isSecret, ofType, registrations, resetRegistrations, value } from "../helpers/pulumi-mocks.js";

let buildDeployment: typeof import("../../deploy/program/build.js").buildDeployment;
const SHA = "c".repeat(64);

beforeAll(async () => {
  await installMocks();
  ({ buildDeployment } = await import("../../deploy/program/build.js"));
});
beforeEach(resetRegistrations);

const base = { deploymentId: "dep-x", hostname: "vr.example.com" };

describe("deployment settings", () => {
  it("reject unknown fields and missing target sections, naming the config key", () => {
    expect(() => parseDeploymentSettings({ ...base, target: "docker", colour: "red" })).toThrow(/megaraptor:\(settings\).*colour/);
    expect(() => parseDeploymentSettings({ ...base, target: "aws" })).toThrow(/megaraptor:aws: target aws needs/);
    expect(() => parseDeploymentSettings({ ...base, target: "ssh", ssh: { host: "h", user: "u" } })).toThrow(/megaraptor:ssh\.binarySha256/);
    expect(() => parseDeploymentSettings({ ...base, target: "aws", aws: { binarySha256: "REPLACE_WITH_THE_RELEASE_SHA256" } })).toThrow(/megaraptor:aws\.binarySha256: expected the SHA-256/);
  });

  it("every example stack file parses (with its placeholder checksum replaced)", () => {
    for (const f of ["docker-local", "ssh-lab", "aws-standard", "azure-standard", "k8s-enterprise"]) {
      const cfg = (parse(readFileSync(`Pulumi.${f}.yaml`, "utf8")) as { config: Record<string, unknown> }).config;
      const raw: Record<string, unknown> = { deploymentId: f };
      for (const [k, v] of Object.entries(cfg)) raw[k.replace("megaraptor:", "") === "case" ? "caseId" : k.replace("megaraptor:", "")] = v;
      const text = JSON.stringify(raw).replaceAll("REPLACE_WITH_THE_RELEASE_SHA256", SHA);
      expect(() => parseDeploymentSettings(JSON.parse(text)), f).not.toThrow();
    }
  });
});

describe("buildDeployment", () => {
  it.each([
    ["docker", {}, "megaraptor:index:DockerServer"],
    ["ssh", { ssh: { host: "192.0.2.1", user: "admin", binarySha256: SHA } }, "megaraptor:index:SshBinaryServer"],
    ["aws", { aws: { region: "eu-west-1", binarySha256: SHA } }, "megaraptor:index:AwsServer"],
    ["azure", { azure: { location: "westeurope", sshPublicKey: "ssh-ed25519 AAAA", binarySha256: SHA } }, "megaraptor:index:AzureServer"],
    ["kubernetes", {}, "megaraptor:index:KubernetesServer"],
  ] as const)("%s builds %s and exports secret credentials", async (target, extra, type) => {
    const out = buildDeployment(parseDeploymentSettings({ ...base, target, profile: "minimal", ...extra }), { sshPrivateKey: pulumi.secret("KEY") });
    expect(await value(out.serverUrl)).toBe("https://vr.example.com:8000/");
    expect(await isSecret(out.apiClientYaml)).toBe(true);
    expect(await isSecret(out.clientConfigYaml)).toBe(true);
    expect(ofType(type)).toHaveLength(1);
    if (target === "aws") expect(registrations.some((r) => r.type === "pulumi:providers:aws")).toBe(true);
  });
});

describe("users and CA rotation reach the components", () => {
  it("guiUsers get generated passwords (secret output); caRotation reaches the PKI", async () => {
    const out = buildDeployment(parseDeploymentSettings({ ...base, deploymentId: "dep-users", target: "docker", profile: "minimal", guiUsers: [{ name: "alice", roles: ["analyst"] }], caRotation: 2 }));
    const pw = await value(out.guiPasswords);
    expect(Object.keys(pw)).toEqual(["alice"]);
    expect(await isSecret(out.guiPasswords)).toBe(true);
    const pki = registrations.find((r) => r.type === "pulumi-nodejs:dynamic:Resource" && r.name === "dep-users-pki-pki")!;
    expect(pki.inputs.caRotation).toBe(2);
    expect(pki.inputs.guiUsers).toEqual(["alice"]);
    expect(() => parseDeploymentSettings({ ...base, target: "docker", guiUsers: [{ name: "x", roles: ["root"] }] })).toThrow(/megaraptor:guiUsers\.0\.roles\.0/);
  });
});

// B3: the deploy layer's health wait calls the gRPC API at api_client.yaml's api_connection_string from the machine
// running Megaraptor (deploy/health checkHealth), so each shipped example must bind the API beyond the server's
// loopback and, on clouds, let the admin CIDRs reach it.
describe("shipped examples", () => {
  const example = (f: string) => {
    const cfg = (parse(readFileSync(`Pulumi.${f}.yaml`, "utf8")) as { config: Record<string, unknown> }).config;
    const raw: Record<string, unknown> = { deploymentId: f };
    for (const [k, v] of Object.entries(cfg)) raw[k.replace("megaraptor:", "") === "case" ? "caseId" : k.replace("megaraptor:", "")] = v;
    return parseDeploymentSettings(JSON.parse(JSON.stringify(raw).replaceAll("REPLACE_WITH_THE_RELEASE_SHA256", SHA)));
  };

  it.each(["ssh-lab", "aws-standard", "azure-standard"])("%s: the health check can reach the API", async (f) => {
    const s = example(f);
    const out = buildDeployment(s, { sshPrivateKey: pulumi.secret("KEY") });
    const address = parse(await value(out.apiClientYaml)).api_connection_string as string;
    expect(address, f).toBe(`${s.hostname}:8001`);
    expect(parse(await value(out.serverConfigYaml)).API.bind_address, f).toBe("0.0.0.0");
    const admins = (s.aws ?? s.azure)?.adminCidrs;
    if (s.target === "aws") {
      const sg = ofType("aws:ec2/securityGroup:SecurityGroup").find((r) => r.name.startsWith(f))!.inputs;
      expect(sg.ingress).toContainEqual(expect.objectContaining({ fromPort: 8001, cidrBlocks: admins }));
    }
    if (s.target === "azure") {
      const nsg = ofType("azure-native:network:NetworkSecurityGroup").find((r) => r.name.startsWith(f))!.inputs;
      expect(nsg.securityRules).toContainEqual(expect.objectContaining({ destinationPortRange: "8001", sourceAddressPrefixes: admins }));
    }
  });
});
