import { parse } from "yaml";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderCloudInit } from "../../components/cloudinit/index.js";
import { execFileSync } from "node:child_process";
import { installMocks, isSecret, ofType, registrations, resetRegistrations, unwrapSecret, value, waitUntil } from "../helpers/pulumi-mocks.js";

let AwsServer: typeof import("../../components/aws/index.js").AwsServer;
let AzureServer: typeof import("../../components/azure/index.js").AzureServer;
const SHA = "b".repeat(64);

beforeAll(async () => {
  await installMocks();
  ({ AwsServer } = await import("../../components/aws/index.js"));
  ({ AzureServer } = await import("../../components/azure/index.js"));
});
beforeEach(resetRegistrations);

// Wait for the last children each component registers (the VM and what follows it).
const settle = (type: string) => waitUntil(() => ofType(type).length > 0, type);
const TAGGABLE_AWS = ["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway", "aws:ec2/routeTable:RouteTable", "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/instance:Instance", "aws:ebs/volume:Volume", "aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile", "aws:ssm/parameter:Parameter"];

describe("cloud-init", () => {
  it("is valid bash, verifies the binary and never echoes the config", () => {
    const script = renderCloudInit({ binaryUrl: "https://x/v", binarySha256: SHA, datastore: "/var/lib/velociraptor", dataDevice: "/dev/sdb", config: { inline: "Frontend:\n  hostname: x" } });
    expect(() => execFileSync("bash", ["-n"], { input: script })).not.toThrow();
    expect(script).toContain("sha256sum -c -");
    expect(script).toContain("systemctl enable --now velociraptor_server");
    expect(script).not.toMatch(/set -x/);
  });
});

describe("AwsServer", () => {
  it("creates a tagged VPC, a least-exposure security group, encrypted EBS, and an instance reading its config from SSM", async () => {
    const s = new AwsServer("aws", { deploymentId: "ir-aws", profile: "rapid", hostname: "vr.example.com", adminCidrs: ["198.51.100.0/24"], caseId: "CASE-7", owner: "bob", binarySha256: SHA, spot: true });
    await value(s.apiClientYaml);
    await settle("aws:ec2/volumeAttachment:VolumeAttachment");
    for (const t of TAGGABLE_AWS) {
      const r = ofType(t);
      expect(r.length, t).toBeGreaterThan(0);
      const tags = unwrapSecret(r[0]!.inputs.tags).value;
      expect(tags, t).toMatchObject({ "managed-by": "megaraptor", "megaraptor-deployment": "ir-aws", "megaraptor-case": "CASE-7", owner: "bob" });
      expect(tags["megaraptor-expires-at"], t).toMatch(/^\d{4}-/);
    }
    const sg = ofType("aws:ec2/securityGroup:SecurityGroup")[0]!.inputs;
    expect(sg.ingress.map((r: any) => [r.fromPort, r.cidrBlocks])).toEqual([
      [8000, ["0.0.0.0/0"]],
      [8889, ["198.51.100.0/24"]],
      [8001, ["198.51.100.0/24"]],
    ]);
    const inst = ofType("aws:ec2/instance:Instance")[0]!.inputs;
    expect(inst.instanceType).toBe("t3.large");
    expect(inst.rootBlockDevice.encrypted).toBe(true);
    expect(inst.instanceMarketOptions.marketType).toBe("spot");
    expect(inst.metadataOptions.httpTokens).toBe("required");
    expect(inst.userData).toContain("aws ssm get-parameter");
    expect(inst.userData).not.toContain("PRIVATE KEY");
    expect(ofType("aws:ebs/volume:Volume")[0]!.inputs.encrypted).toBe(true);
    const param = ofType("aws:ssm/parameter:Parameter")[0]!.inputs;
    expect(param.type).toBe("SecureString");
    expect(unwrapSecret(param.value).secret).toBe(true);
    const policy = JSON.parse(ofType("aws:iam/rolePolicy:RolePolicy")[0]!.inputs.policy);
    expect(policy.Statement).toEqual([{ Effect: "Allow", Action: ["ssm:GetParameter"], Resource: expect.any(String) }]);
    expect(await isSecret(s.apiClientYaml)).toBe(true);
    expect(parse(await value(s.serverConfigYaml)).API.hostname).toBe("localhost"); // A7: not a hairpin to the public name
  });

  it("opens only the frontend when no admin CIDRs are given, and reuses an existing subnet", async () => {
    const s = new AwsServer("aws2", { deploymentId: "ir-aws2", profile: "standard", hostname: "vr2.example.com", subnetId: "subnet-123", binarySha256: SHA });
    await value(s.apiAddress);
    await settle("aws:ec2/volumeAttachment:VolumeAttachment");
    expect(ofType("aws:ec2/vpc:Vpc")).toHaveLength(0);
    expect(ofType("aws:ec2/securityGroup:SecurityGroup")[0]!.inputs.ingress.map((r: any) => r.fromPort)).toEqual([8000]);
    expect(ofType("aws:ec2/instance:Instance")[0]!.inputs.subnetId).toBe("subnet-123");
    expect(registrations.some((r) => r.type === "aws:ec2/eip:Eip")).toBe(false);
  });
});

describe("AzureServer", () => {
  it("creates RG, VNet, NSG with the same rules, a Spot VM with a data disk and secret customData, all tagged", async () => {
    const s = new AzureServer("az", { deploymentId: "ir-az", profile: "standard", location: "westeurope", hostname: "vr.example.net", adminCidrs: ["203.0.113.0/24"], sshPublicKey: "ssh-ed25519 AAAA test", binarySha256: SHA, spot: true });
    await value(s.apiClientYaml);
    await settle("azure-native:compute:VirtualMachine");
    const nsg = ofType("azure-native:network:NetworkSecurityGroup")[0]!.inputs;
    expect(nsg.securityRules.map((r: any) => [r.destinationPortRange, r.sourceAddressPrefixes])).toEqual([
      ["8000", ["0.0.0.0/0"]],
      ["8889", ["203.0.113.0/24"]],
    ]);
    const vm = ofType("azure-native:compute:VirtualMachine")[0]!.inputs;
    expect(vm.hardwareProfile.vmSize).toBe("Standard_D2s_v5");
    expect(vm.priority).toBe("Spot");
    expect(vm.storageProfile.dataDisks[0].diskSizeGB).toBe(200);
    const osProfile = unwrapSecret(vm.osProfile);
    expect(osProfile.value.linuxConfiguration.disablePasswordAuthentication).toBe(true);
    const cd = unwrapSecret(osProfile.value.customData);
    cd.secret ||= osProfile.secret;
    expect(cd.secret).toBe(true);
    expect(Buffer.from(cd.value, "base64").toString()).toContain("systemctl enable --now velociraptor_server");
    expect(parse(await value(s.serverConfigYaml)).API.hostname).toBe("localhost"); // A7
    for (const t of ["azure-native:resources:ResourceGroup", "azure-native:network:VirtualNetwork", "azure-native:network:NetworkSecurityGroup", "azure-native:network:PublicIPAddress", "azure-native:network:NetworkInterface", "azure-native:compute:VirtualMachine"])
      expect(unwrapSecret(ofType(t)[0]!.inputs.tags).value["megaraptor-deployment"], t).toBe("ir-az");
  });
});
