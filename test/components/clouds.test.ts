import { parse } from "yaml";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderCloudInit, renderDay2Script } from "../../components/cloudinit/index.js";
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
const TAGGABLE_AWS = ["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway", "aws:ec2/routeTable:RouteTable", "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/instance:Instance", "aws:ebs/volume:Volume", "aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile", "aws:secretsmanager/secret:Secret"];

describe("cloud-init", () => {
  it("is valid bash, verifies the binary and never echoes the config", () => {
    const script = renderCloudInit({ binaryUrl: "https://x/v", binarySha256: SHA, datastore: "/var/lib/velociraptor", dataDevices: ["/dev/sdb"], config: { inline: "Frontend:\n  hostname: x" }, users: { inline: "#!/bin/sh\ntrue" } });
    expect(() => execFileSync("bash", ["-n"], { input: script })).not.toThrow();
    expect(script).toContain("sha256sum -c -");
    expect(script).toContain("systemctl enable --now velociraptor_server");
    expect(script).not.toMatch(/set -x/);
  });

  // A5: the unit runs as User=velociraptor (components/ssh/scripts.ts systemdUnit); a root:root 0750 /etc/velociraptor
  // makes the config unreadable to it (EACCES on traversal) and systemd restarts the server forever.
  it("makes /etc/velociraptor traversable by the service user, after that user exists", () => {
    const script = renderCloudInit({ binaryUrl: "https://x/v", binarySha256: SHA, datastore: "/var/lib/velociraptor", config: { inline: "Frontend: {}" }, users: { inline: "#!/bin/sh\ntrue" } });
    const useradd = script.indexOf("useradd --system");
    const dir = script.indexOf("install -d -m 0750 -o root -g velociraptor /etc/velociraptor");
    expect(useradd).toBeGreaterThan(-1);
    expect(dir).toBeGreaterThan(useradd);
    expect(script).not.toMatch(/install -d -m 0750 \/etc\/velociraptor/);
  });

  // A2: the user bootstrap is written next to the config (service user only) and runs before every start.
  it("writes the user bootstrap and runs it as ExecStartPre", () => {
    const script = renderCloudInit({ binaryUrl: "https://x/v", binarySha256: SHA, datastore: "/var/lib/velociraptor", config: { inline: "Frontend: {}" }, users: { inline: "#!/bin/sh\necho users" } });
    expect(script).toContain("ExecStartPre=/bin/sh /etc/velociraptor/bootstrap-users.sh");
    expect(script).toMatch(/cat > \/etc\/velociraptor\/bootstrap-users.sh/);
    expect(script).toContain("chown velociraptor:velociraptor /etc/velociraptor/bootstrap-users.sh");
    expect(() => execFileSync("bash", ["-n"], { input: script })).not.toThrow();
  });
});

// B5: cloud-init runs once; a changed config or user list reaches the server through this script, run by the cloud.
describe("day-2 script", () => {
  const script = renderDay2Script({ prelude: ["region=eu-west-1"], config: { fetchCommand: "aws secretsmanager get-secret-value --secret-id 'arn:c'" }, users: { inline: "#!/bin/sh\necho users" }, removeSelf: true });

  it("is POSIX sh (the SSM agent and the Custom Script extension start it with /bin/sh) and bash", () => {
    for (const sh of ["sh", "bash"]) expect(() => execFileSync(sh, ["-n"], { input: script })).not.toThrow();
    expect(script).not.toMatch(/pipefail/);
  });

  it("waits for a first boot still running, refuses empty files, and restarts only when something changed", () => {
    const at = (needle: string) => script.indexOf(needle);
    expect(at("cloud-init status --wait")).toBeGreaterThan(-1);
    expect(at("cloud-init status --wait")).toBeLessThan(at("aws secretsmanager"));
    expect(script).toContain(`aws secretsmanager get-secret-value --secret-id 'arn:c' > "$tmp/config"`);
    expect(script).toContain(`cat > "$tmp/users" <<'MEGARAPTOR_USERS_EOF'\n#!/bin/sh\necho users\nMEGARAPTOR_USERS_EOF`);
    expect(script).toContain(`[ -s "$tmp/config" ] && [ -s "$tmp/users" ] || {`);
    expect(script).toContain(`if cmp -s "$tmp/config" /etc/velociraptor/server.config.yaml && cmp -s "$tmp/users" /etc/velociraptor/bootstrap-users.sh; then echo "config and users unchanged"; exit 0; fi`);
    // Written for the service user only, then the restart whose ExecStartPre runs the user bootstrap (new users
    // created, dropped ones revoked) before the server starts.
    expect(at("install -m 0600 -o velociraptor -g velociraptor \"$tmp/config\" /etc/velociraptor/server.config.yaml")).toBeLessThan(at("systemctl restart velociraptor_server"));
    expect(at("install -m 0600 -o velociraptor -g velociraptor \"$tmp/users\" /etc/velociraptor/bootstrap-users.sh")).toBeLessThan(at("systemctl restart velociraptor_server"));
    expect(script).toContain(`trap 'rm -rf "$tmp"; rm -f -- "$0"' EXIT`);
  });
});

describe("AwsServer", () => {
  it("creates a tagged VPC, a least-exposure security group, encrypted EBS, and an instance reading its config from Secrets Manager", async () => {
    const s = new AwsServer("aws", { deploymentId: "ir-aws", profile: "rapid", hostname: "vr.example.com", adminCidrs: ["198.51.100.0/24"], caseId: "CASE-7", owner: "bob", binarySha256: SHA, spot: true });
    await value(s.apiClientYaml);
    await settle("aws:ec2/volumeAttachment:VolumeAttachment");
    for (const t of TAGGABLE_AWS) {
      const r = ofType(t);
      expect(r.length, t).toBeGreaterThan(0);
      const tags = unwrapSecret(r[0]!.inputs.tags).value;
      expect(tags, t).toMatchObject({ "managed-by": "megaraptor", "megaraptor-deployment": "ir-aws", "megaraptor-case": "CASE-7", owner: "bob" });
      // B6: MOCK_CREATED_AT (the DeploymentClock's creation in state) + 72 h of the rapid profile
      expect(tags["megaraptor-expires-at"], t).toBe("2030-01-04T00:00:00.000Z");
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
    expect(inst.userData).not.toContain("PRIVATE KEY");
    expect(ofType("aws:ebs/volume:Volume")[0]!.inputs.encrypted).toBe(true);
    // A3: the config (three keys, four certificates: > 8 KB) does not fit an SSM parameter (Standard 4 KB, Advanced
    // 8 KB: AWS Systems Manager user guide, "parameter-store-advanced-parameters"); Secrets Manager holds 64 KB
    // (AWS Secrets Manager quotas: SecretString max 65,536 bytes).
    expect(ofType("aws:ssm/parameter:Parameter")).toHaveLength(0);
    const versions = ofType("aws:secretsmanager/secretVersion:SecretVersion");
    expect(versions).toHaveLength(2); // the server config, and the user bootstrap (GUI passwords)
    const config = unwrapSecret(versions.find((v) => v.name === "aws-config")!.inputs.secretString);
    expect(config.secret).toBe(true);
    expect(Buffer.byteLength(config.value)).toBeGreaterThan(8192);
    expect(Buffer.byteLength(config.value)).toBeLessThan(65536);
    expect(unwrapSecret(versions.find((v) => v.name === "aws-users")!.inputs.secretString).value).toContain("vr user add 'admin'");
    expect(inst.userData).toContain("aws secretsmanager get-secret-value");
    const policy = JSON.parse(ofType("aws:iam/rolePolicy:RolePolicy")[0]!.inputs.policy);
    expect(policy.Statement).toEqual([{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [expect.stringContaining("aws-config"), expect.stringContaining("aws-users")] }]);
    // A4: @pulumi/aws 7.48.0 ec2/instance.d.ts: rootBlockDevice.tags "conflicts with volumeTags", and volumeTags with an
    // aws.ebs.Volume tagged on its own makes the tags cycle.
    expect(inst.volumeTags).toBeUndefined();
    expect(unwrapSecret(inst.rootBlockDevice.tags).value["megaraptor-deployment"]).toBe("ir-aws");
    // B7: with httpTokens "required" an IMDS call without a session token gets 401: fetch a token first.
    expect(inst.userData).toContain("X-aws-ec2-metadata-token-ttl-seconds");
    expect(inst.userData).toMatch(/-H "X-aws-ec2-metadata-token: \$imds_token"[^\n]*placement\/region/);
    // B4: the datastore goes on the data volume, found by its own id — udev names an EBS NVMe disk
    // nvme-Amazon_Elastic_Block_Store_<volume id without the dash>; a glob would match the root volume first.
    const vol = ofType("aws:ebs/volume:Volume")[0]!;
    expect(inst.userData).toContain(`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${`${vol.name}-id`.replace(/-/g, "")}`);
    expect(inst.userData).not.toContain("Amazon_Elastic_Block_Store_*");
    expect(vol.inputs.availabilityZone).toBeDefined();
    // B8: Debian's AMIs ship no SSM agent; the documented GUI path (SSM port forwarding) needs it.
    expect(inst.userData).toContain("amazon-ssm-agent");
    expect(await isSecret(s.apiClientYaml)).toBe(true);
    expect(parse(await value(s.serverConfigYaml)).API.hostname).toBe("localhost"); // A7: not a hairpin to the public name
  });

  it("B5: an SSM association re-applies config and users on the instance whenever either secret gets a new version", async () => {
    const mk = (name: string, guiUsers?: { name: string; roles: string[] }[]) =>
      new AwsServer(name, { deploymentId: "ir-day2", profile: "standard", hostname: "vr.example.com", binarySha256: SHA, guiUsers });
    const before = mk("d2a");
    const after = mk("d2b", [{ name: "admin", roles: ["administrator"] }, { name: "analyst2", roles: ["analyst"] }]);
    await Promise.all([value(before.apiClientYaml), value(after.apiClientYaml)]);
    await waitUntil(() => ofType("aws:ssm/association:Association").length === 2, "associations");
    const doc = ofType("aws:ssm/document:Document").find((d) => d.name === "d2a-day2")!.inputs;
    expect(doc).toMatchObject({ documentType: "Command", documentFormat: "JSON" });
    const content = JSON.parse(doc.content);
    expect(content.schemaVersion).toBe("2.2");
    expect(content.parameters.revision.type).toBe("String");
    expect(content.mainSteps[0].action).toBe("aws:runShellScript");
    const run = content.mainSteps[0].inputs.runCommand.join("\n");
    // The document carries how to fetch, never what: ARNs of the two secrets, no key material.
    expect(run).toContain("aws secretsmanager get-secret-value --region \"$region\" --secret-id 'arn:aws:secretsmanager:eu-west-1:123456789012:d2a-config'");
    expect(run).toContain("--secret-id 'arn:aws:secretsmanager:eu-west-1:123456789012:d2a-users'");
    expect(run).toContain("X-aws-ec2-metadata-token: $imds_token"); // B7 for the CLI's region
    expect(run).toContain("systemctl restart velociraptor_server");
    expect(run).not.toContain("PRIVATE KEY");
    const assoc = (n: string) => ofType("aws:ssm/association:Association").find((a) => a.name === `${n}-day2`)!.inputs;
    expect(assoc("d2a").name).toBe("megaraptor-ir-day2-day2");
    expect(assoc("d2a").targets).toEqual([{ key: "InstanceIds", values: ["d2a-server-id"] }]);
    const version = (secret: string) => ofType("aws:secretsmanager/secretVersion:SecretVersion").find((v) => v.name === secret)!;
    const users = (n: string) => unwrapSecret(version(`${n}-users`).inputs.secretString).value;
    expect(users("d2b")).toContain("vr user add 'analyst2'");
    expect(users("d2a")).not.toContain("analyst2");
    // A new GUI user changes the users secret, hence its version id, hence the association's revision: it runs again.
    expect(assoc("d2a").parameters.revision).toMatch(/^[0-9a-f]{32}\/[0-9a-f]{32}$/);
    expect(assoc("d2b").parameters.revision.split("/")[1]).not.toBe(assoc("d2a").parameters.revision.split("/")[1]);
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
    // C8: the admin user's SSH key is useless without an SSH rule; admins only.
    expect(nsg.securityRules.map((r: any) => [r.destinationPortRange, r.sourceAddressPrefixes])).toEqual(expect.arrayContaining([
      ["8000", ["0.0.0.0/0"]],
      ["8889", ["203.0.113.0/24"]],
      ["22", ["203.0.113.0/24"]],
    ]));
    const vm = ofType("azure-native:compute:VirtualMachine")[0]!.inputs;
    expect(vm.hardwareProfile.vmSize).toBe("Standard_D2s_v5");
    expect(vm.priority).toBe("Spot");
    expect(vm.storageProfile.dataDisks[0].diskSizeGB).toBe(200);
    const osProfile = unwrapSecret(vm.osProfile);
    expect(osProfile.value.linuxConfiguration.disablePasswordAuthentication).toBe(true);
    const cd = unwrapSecret(osProfile.value.customData);
    cd.secret ||= osProfile.secret;
    expect(cd.secret).toBe(true);
    const boot = Buffer.from(cd.value, "base64").toString();
    expect(boot).toContain("systemctl enable --now velociraptor_server");
    expect(boot).toContain("install -d -m 0750 -o root -g velociraptor /etc/velociraptor"); // A5
    expect(boot).toContain("vr user add 'admin'"); // A2
    expect(boot).toContain("/dev/disk/azure/scsi1/lun0");
    expect(parse(await value(s.serverConfigYaml)).API.hostname).toBe("localhost"); // A7
    for (const t of ["azure-native:resources:ResourceGroup", "azure-native:network:VirtualNetwork", "azure-native:network:NetworkSecurityGroup", "azure-native:network:PublicIPAddress", "azure-native:network:NetworkInterface", "azure-native:compute:VirtualMachine"])
      expect(unwrapSecret(ofType(t)[0]!.inputs.tags).value["megaraptor-deployment"], t).toBe("ir-az");
  });
});

describe("AzureServer day 2", () => {
  it("B5: a Custom Script extension carries config and users in protected settings and re-runs when either changes", async () => {
    const mk = (name: string, apiUsers?: { name: string; roles: string[] }[]) =>
      new AzureServer(name, { deploymentId: "ir-az2", profile: "standard", location: "westeurope", hostname: "vr.example.net", sshPublicKey: "ssh-ed25519 AAAA test", binarySha256: SHA, apiUsers });
    const before = mk("z2a");
    const after = mk("z2b", [{ name: "megaraptor", roles: ["api", "investigator"] }, { name: "soar", roles: ["api"] }]);
    await Promise.all([value(before.apiClientYaml), value(after.apiClientYaml)]);
    await waitUntil(() => ofType("azure-native:compute:VirtualMachineExtension").length === 2, "extensions");
    const ext = (n: string) => ofType("azure-native:compute:VirtualMachineExtension").find((e) => e.name === `${n}-day2`)!.inputs;
    expect(ext("z2a")).toMatchObject({ publisher: "Microsoft.Azure.Extensions", type: "CustomScript", typeHandlerVersion: "2.1", vmExtensionName: "megaraptor-day2" });
    const settings = unwrapSecret(ext("z2a").protectedSettings);
    expect(settings.secret).toBe(true);
    const script = Buffer.from(settings.value.script, "base64").toString();
    expect(script).toContain("cat > \"$tmp/config\" <<'MEGARAPTOR_CONFIG_EOF'");
    expect(script).toContain("BEGIN RSA PRIVATE KEY"); // inline: the protected settings are the secret channel
    expect(script).toContain("vr config api_client --name 'megaraptor'");
    expect(script).toContain("systemctl restart velociraptor_server");
    expect(Buffer.from(unwrapSecret(ext("z2b").protectedSettings).value.script, "base64").toString()).toContain("vr config api_client --name 'soar' --role 'api'");
    // A new API user changes the script, hence the tag the extension re-runs on; the tag is a digest, not the script.
    expect(ext("z2a").forceUpdateTag).toMatch(/^[0-9a-f]{32}$/);
    expect(ext("z2b").forceUpdateTag).not.toBe(ext("z2a").forceUpdateTag);
  });
});

describe("DeploymentClock", () => {
  it("is created once and never changes or is replaced afterwards", async () => {
    const { clockProvider } = await import("../../components/common/clock.js");
    const p = clockProvider();
    const before = Date.now();
    const { outs } = await p.create({});
    expect(Date.parse(outs.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    const d = await p.diff!("id", outs, { megaraptorDeploymentClock: true });
    expect(d.changes).toBe(false);
    expect(d.replaces ?? []).toEqual([]);
  });
});
