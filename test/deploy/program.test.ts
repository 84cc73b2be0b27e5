import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { z } from "zod";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_PROFILE, DeploymentSettingsError, parseDeploymentSettings, parseStoredSettings } from "../../deploy/request/index.js";
import { TARGET_LIST } from "../../deploy/targets/index.js";
import { installMocks, isSecret, ofType, registrations, resetRegistrations, value } from "../helpers/pulumi-mocks.js";

let buildDeployment: typeof import("../../deploy/program/build.js").buildDeployment;
const SHA = "c".repeat(64);

beforeAll(async () => {
  await installMocks();
  ({ buildDeployment } = await import("../../deploy/program/build.js"));
});
beforeEach(resetRegistrations);

const base = { deployment_id: "dep-x", hostname: "vr.example.com" };
/** A stack file's megaraptor:* keys, as the stack program hands them to the settings schema. */
const stackSettings = (cfg: Record<string, unknown>, id: string) => ({ deployment_id: id, ...Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k.replace("megaraptor:", ""), v])) });

describe("deployment settings", () => {
  it("reject unknown fields and missing target sections, naming the config key", () => {
    expect(() => parseDeploymentSettings({ ...base, target: "docker", colour: "red" }, "stack")).toThrow(/megaraptor:\(settings\).*colour/);
    expect(() => parseDeploymentSettings({ ...base, target: "aws" }, "stack")).toThrow(/megaraptor:aws: target aws needs/);
    expect(() => parseDeploymentSettings({ ...base, target: "ssh", ssh: { host: "h", user: "u" } }, "stack")).toThrow(/megaraptor:ssh\.binary_sha256/);
    expect(() => parseDeploymentSettings({ ...base, target: "aws", aws: { binary_sha256: "REPLACE_WITH_THE_RELEASE_SHA256" } }, "stack")).toThrow(/megaraptor:aws\.binary_sha256: expected the SHA-256/);
  });

  it("are a typed error naming the field and the fix, and say the new name of a renamed key", () => {
    const err = (() => {
      try {
        parseDeploymentSettings({ ...base, target: "docker", case: "IR-1", deploymentId: "x" }, "stack");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DeploymentSettingsError);
    expect(err).toMatchObject({ code: "INVALID_INPUT", field: "megaraptor:(settings)", source: "stack" });
    expect((err as DeploymentSettingsError).hint).toMatch(/case → case_id, deploymentId → deployment_id.*Pulumi\.<stack>\.yaml/);
  });

  it("default to the one documented profile, in the Pulumi project file too", () => {
    expect(parseDeploymentSettings({ ...base, target: "docker" }).profile).toBe(DEFAULT_PROFILE);
    const project = parse(readFileSync("Pulumi.yaml", "utf8")) as { config: Record<string, { default?: string }> };
    expect(project.config["megaraptor:profile"]!.default).toBe(DEFAULT_PROFILE);
  });

  it("stored by earlier releases in camelCase read back under today's names", () => {
    const s = parseStoredSettings({ target: "ssh", deploymentId: "old-one", hostname: "h", caseId: "IR-7", certificateRotation: 2, overrides: { resources: { memoryMb: 2048 } }, ssh: { host: "h", binarySha256: SHA, openFirewall: true } });
    expect(s).toMatchObject({ deployment_id: "old-one", case_id: "IR-7", certificate_rotation: 2, overrides: { resources: { memoryMb: 2048 } }, ssh: { host: "h", port: 22, binary_sha256: SHA, open_firewall: true } });
  });

  it("every example stack file parses (with its placeholder checksum replaced)", () => {
    for (const f of TARGET_LIST.map((t) => t.example)) {
      const cfg = (parse(readFileSync(`Pulumi.${f}.yaml`, "utf8")) as { config: Record<string, unknown> }).config;
      const text = JSON.stringify(stackSettings(cfg, f)).replaceAll("REPLACE_WITH_THE_RELEASE_SHA256", SHA);
      expect(() => parseDeploymentSettings(JSON.parse(text), "stack"), f).not.toThrow();
    }
  });
});

describe("buildDeployment", () => {
  it.each([
    ["docker", {}, "megaraptor:index:DockerServer"],
    ["ssh", { ssh: { host: "192.0.2.1", user: "admin", binary_sha256: SHA } }, "megaraptor:index:SshBinaryServer"],
    ["aws", { aws: { region: "eu-west-1", binary_sha256: SHA } }, "megaraptor:index:AwsServer"],
    ["azure", { azure: { location: "westeurope", ssh_public_key: "ssh-ed25519 AAAA", binary_sha256: SHA } }, "megaraptor:index:AzureServer"],
    ["kubernetes", {}, "megaraptor:index:KubernetesServer"],
  ] as const)("%s builds %s and exports secret credentials", async (target, extra, type) => {
    const out = await buildDeployment(parseDeploymentSettings({ ...base, target, profile: "minimal", ...extra }), { sshPrivateKey: pulumi.secret("KEY") });
    expect(await value(out.serverUrl)).toBe("https://vr.example.com:8000/");
    expect(await isSecret(out.apiClientYaml)).toBe(true);
    expect(await isSecret(out.clientConfigYaml)).toBe(true);
    expect(ofType(type)).toHaveLength(1);
    if (target === "aws") expect(registrations.some((r) => r.type === "pulumi:providers:aws")).toBe(true);
  });
});

describe("users and CA rotation reach the components", () => {
  it("gui_users get generated passwords (secret output); ca_rotation reaches the PKI", async () => {
    const out = await buildDeployment(parseDeploymentSettings({ ...base, deployment_id: "dep-users", target: "docker", profile: "minimal", gui_users: [{ name: "alice", roles: ["analyst"] }], ca_rotation: 2 }));
    const pw = await value(out.guiPasswords);
    expect(Object.keys(pw)).toEqual(["alice"]);
    expect(await isSecret(out.guiPasswords)).toBe(true);
    const pki = registrations.find((r) => r.type === "pulumi-nodejs:dynamic:Resource" && r.name === "dep-users-pki-pki")!;
    expect(pki.inputs.caRotation).toBe(2);
    expect(pki.inputs.guiUsers).toEqual(["alice"]);
    expect(() => parseDeploymentSettings({ ...base, target: "docker", gui_users: [{ name: "x", roles: ["root"] }] }, "stack")).toThrow(/megaraptor:gui_users\.0\.roles\.0/);
  });
});

// B3: the deploy layer's health wait calls the gRPC API at api_client.yaml's api_connection_string from the machine
// running Megaraptor (deploy/health checkHealth), so each shipped example must bind the API beyond the server's
// loopback and, on clouds, let the admin CIDRs reach it.
describe("shipped examples", () => {
  const example = (f: string) => {
    const cfg = (parse(readFileSync(`Pulumi.${f}.yaml`, "utf8")) as { config: Record<string, unknown> }).config;
    return parseDeploymentSettings(JSON.parse(JSON.stringify(stackSettings(cfg, f)).replaceAll("REPLACE_WITH_THE_RELEASE_SHA256", SHA)), "stack");
  };

  it.each(["ssh-lab", "aws-standard", "azure-standard"])("%s: the health check can reach the API", async (f) => {
    const s = example(f);
    const out = await buildDeployment(s, { sshPrivateKey: pulumi.secret("KEY") });
    const address = parse(await value(out.apiClientYaml)).api_connection_string as string;
    expect(address, f).toBe(`${s.hostname}:8001`);
    expect(parse(await value(out.serverConfigYaml)).API.bind_address, f).toBe("0.0.0.0");
    const section = z.object({ admin_cidrs: z.array(z.string()) }).partial().parse(s.aws ?? s.azure ?? {});
    const admins = section.admin_cidrs;
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
