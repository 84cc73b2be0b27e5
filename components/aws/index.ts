/**
 * AwsServer: Velociraptor on an EC2 instance. A new VPC/subnet (or an existing subnet), a security group opening
 * only the frontend to clients and GUI/API to admin CIDRs, a Debian 12 AMI, an encrypted EBS datastore volume, and
 * an instance role that may read exactly two Secrets Manager secrets — the server config and the user bootstrap
 * (GUI passwords) — which cloud-init fetches, so keys are not in user data. Secrets Manager because the config
 * (three keys, four certificates, > 10 KB) exceeds an SSM parameter (Advanced tier: 8 KB). The SSM agent is
 * installed (Debian's AMIs lack it) so the GUI is reachable by SSM port forwarding without opening it, and so an SSM
 * association can re-apply a changed config or user list (day 2). Optional Elastic IP, Route 53 record and spot
 * pricing. Everything taggable is tagged.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { VelociraptorServerComponent } from "../common/server.js";
import { renderCloudInit, renderDay2Script } from "../cloudinit/index.js";
import { checkDeploymentId, deploymentTagsOutput, resolveProfile, resolveVersion, type DeploymentBaseArgs } from "../common/index.js";
import { exposureRules, withAdminAccess } from "../common/network.js";
import { serverIdentity } from "../common/identity.js";
import { releaseBinaryUrl } from "../versions.js";

export interface AwsServerArgs extends DeploymentBaseArgs {
  /** Use this subnet instead of creating a VPC. */
  subnetId?: pulumi.Input<string>;
  vpcCidr?: string;
  /** CIDRs allowed to reach the GUI and API; without any, GUI/API stay closed (use SSM port forwarding). */
  adminCidrs?: string[];
  /** CIDRs of endpoints (default anywhere: clients roam). */
  clientCidrs?: string[];
  instanceType?: string;
  spot?: boolean;
  elasticIp?: boolean;
  route53?: { zoneId: pulumi.Input<string>; name: string };
  binarySha256: string;
  binaryUrl?: string;
  keyName?: pulumi.Input<string>;
}

const DATASTORE = "/var/lib/velociraptor";
const BIN = "/usr/local/bin/velociraptor";
/** IMDSv2 only (metadataOptions.httpTokens "required"): every metadata call needs a session token (B7). */
const REGION_FROM_IMDS = [
  `imds_token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")`,
  `region=$(curl -fsS -H "X-aws-ec2-metadata-token: $imds_token" http://169.254.169.254/latest/meta-data/placement/region)`,
];

export class AwsServer extends VelociraptorServerComponent {
  readonly instanceId: pulumi.Output<string>;
  readonly publicIp: pulumi.Output<string>;

  constructor(name: string, args: AwsServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("megaraptor:index:AwsServer", name, {}, opts);
    checkDeploymentId(args.deploymentId);
    const profile = withAdminAccess(resolveProfile(args), args.adminCidrs);
    const version = resolveVersion(args.version);
    const tags = deploymentTagsOutput(name, args, profile, this);
    const p = { parent: this };
    const id = args.deploymentId;

    let subnetId: pulumi.Input<string>;
    let vpcId: pulumi.Input<string>;
    // The data volume must exist before the instance (user data names it by id), so it needs the subnet's zone.
    let zone: pulumi.Output<string>;
    if (args.subnetId) {
      subnetId = args.subnetId;
      const existing = aws.ec2.getSubnetOutput({ id: args.subnetId }, p);
      vpcId = existing.vpcId;
      zone = existing.availabilityZone;
    } else {
      const cidr = args.vpcCidr ?? "10.77.0.0/16";
      const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags.apply((t) => ({ ...t, Name: `megaraptor-${id}` })) }, p);
      const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, p);
      const zones = aws.getAvailabilityZonesOutput({ state: "available" }, p);
      const subnet = new aws.ec2.Subnet(`${name}-subnet`, { vpcId: vpc.id, cidrBlock: cidr.replace(/\.0\.0\/16$/, ".1.0/24"), availabilityZone: zones.names[0], mapPublicIpOnLaunch: true, tags }, p);
      zone = subnet.availabilityZone;
      const rt = new aws.ec2.RouteTable(`${name}-rt`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags }, p);
      new aws.ec2.RouteTableAssociation(`${name}-rta`, { subnetId: subnet.id, routeTableId: rt.id }, p);
      subnetId = subnet.id;
      vpcId = vpc.id;
    }

    const rules = exposureRules(profile, args);
    const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId,
      description: `Velociraptor ${id} (managed by Megaraptor)`,
      ingress: rules.map((r) => ({ protocol: "tcp", fromPort: r.port, toPort: r.port, cidrBlocks: r.cidrs, description: r.description })),
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "updates, release download" }],
      tags,
    }, p);

    const eip = args.elasticIp ? new aws.ec2.Eip(`${name}-eip`, { domain: "vpc", tags }, p) : undefined;
    const hostname = pulumi.output(args.hostname);
    const moreNames = pulumi.output(eip?.publicIp ?? "").apply((ip) => [...(args.route53 ? [args.route53.name] : []), ...(ip ? [ip] : [])]);
    const { configs, apiAddress, apiClientYaml, guiPasswords, usersScript } = serverIdentity(name, args, profile, version, this, { datastorePath: DATASTORE, apiHost: hostname, moreNames });

    const secret = (part: string, value: pulumi.Output<string>) => {
      // namePrefix: a destroyed secret waits out its recovery window under its name; a prefix never collides.
      const sec = new aws.secretsmanager.Secret(`${name}-${part}`, { namePrefix: `megaraptor/${id}/${part}-`, description: `Velociraptor ${part} for ${id} (managed by Megaraptor)`, recoveryWindowInDays: 7, tags }, p);
      const version = new aws.secretsmanager.SecretVersion(`${name}-${part}`, { secretId: sec.id, secretString: value }, p);
      return { arn: sec.arn, version };
    };
    const configSecret = secret("config", configs.serverConfigYaml);
    const usersSecret = secret("users", usersScript(BIN));
    const role = new aws.iam.Role(`${name}-role`, {
      assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
      tags,
    }, p);
    new aws.iam.RolePolicyAttachment(`${name}-ssm-core`, { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" }, p);
    // The aws/secretsmanager key's policy lets any principal allowed GetSecretValue decrypt through Secrets Manager.
    new aws.iam.RolePolicy(`${name}-read-config`, {
      role: role.id,
      policy: pulumi.all([configSecret.arn, usersSecret.arn]).apply((arns) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: arns }] })),
    }, p);
    const profileRes = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, p);
    const data = new aws.ebs.Volume(`${name}-datastore`, { availabilityZone: zone, size: profile.resources.datastoreGb, type: "gp3", encrypted: true, tags }, p);

    const ami = aws.ec2.getAmiOutput({ mostRecent: true, owners: ["136693071363"], filters: [{ name: "name", values: ["debian-12-amd64-*"] }, { name: "architecture", values: ["x86_64"] }] }, p);
    const fetch = (arn: pulumi.Output<string>) => pulumi.interpolate`aws secretsmanager get-secret-value --region "$region" --secret-id '${arn}' --query SecretString --output text`;
    const userData = pulumi.all([args.binarySha256, data.id, fetch(configSecret.arn), fetch(usersSecret.arn)]).apply(([sha, volumeId, fetchConfig, fetchUsers]) =>
      renderCloudInit({
        binaryUrl: args.binaryUrl ?? releaseBinaryUrl(version),
        binarySha256: sha,
        datastore: DATASTORE,
        packages: ["awscli"],
        extraSetup: [
          ...REGION_FROM_IMDS,
          // Debian's AMIs do not ship the SSM agent; AWS documents this package for Debian. Without it the GUI is
          // only reachable through adminCidrs, so a failure here warns instead of stopping the server.
          `command -v amazon-ssm-agent >/dev/null 2>&1 || { curl -fsSL --retry 3 -o /tmp/amazon-ssm-agent.deb "https://s3.$region.amazonaws.com/amazon-ssm-$region/latest/debian_amd64/amazon-ssm-agent.deb" && dpkg -i /tmp/amazon-ssm-agent.deb && systemctl enable --now amazon-ssm-agent; rm -f /tmp/amazon-ssm-agent.deb; } || echo "warning: amazon-ssm-agent not installed; SSM port forwarding to the GUI will not work" >&2`,
        ],
        // udev names an EBS NVMe disk nvme-Amazon_Elastic_Block_Store_<volume id without the dash> (Nitro types);
        // Xen types show /dev/sdf as /dev/xvdf. Never a glob: the root volume matches one first.
        dataDevices: [`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace(/-/g, "")}`, "/dev/xvdf"],
        config: { fetchCommand: fetchConfig },
        users: { fetchCommand: fetchUsers },
      }),
    );
    const instance = new aws.ec2.Instance(`${name}-server`, {
      ami: ami.id,
      instanceType: args.instanceType ?? profile.cloud.awsInstanceType,
      subnetId,
      vpcSecurityGroupIds: [sg.id],
      iamInstanceProfile: profileRes.name,
      keyName: args.keyName,
      userData,
      userDataReplaceOnChange: true,
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
      // Root volume tags here, never volumeTags beside them: @pulumi/aws 7.48.0 ec2/instance.d.ts says they conflict,
      // and volumeTags would also fight the data volume's own tags.
      rootBlockDevice: { encrypted: true, volumeSize: 20, volumeType: "gp3", tags },
      instanceMarketOptions: args.spot ? { marketType: "spot", spotOptions: { instanceInterruptionBehavior: "stop", spotInstanceType: "persistent" } } : undefined,
      tags: tags.apply((t) => ({ ...t, Name: `megaraptor-${id}` })),
    }, { parent: this, dependsOn: [configSecret.version, usersSecret.version] });
    new aws.ec2.VolumeAttachment(`${name}-datastore-attach`, { deviceName: "/dev/sdf", volumeId: data.id, instanceId: instance.id }, p);

    // Day 2 (B5): user data runs once, so a new config or user list would stop at Secrets Manager. An SSM command
    // document holds the apply script (ARNs only, no secret); an association runs it on the instance whenever its
    // `revision` parameter changes — the two secrets' version ids, new on every new value — since State Manager runs
    // an association immediately on create and on every update unless applyOnlyAtCronInterval is set (AWS SSM API,
    // UpdateAssociation). It needs the SSM agent that user data installs.
    const day2 = pulumi.all([fetch(configSecret.arn), fetch(usersSecret.arn)]).apply(([fetchConfig, fetchUsers]) =>
      renderDay2Script({ prelude: REGION_FROM_IMDS, config: { fetchCommand: fetchConfig }, users: { fetchCommand: fetchUsers } }),
    );
    const document = new aws.ssm.Document(`${name}-day2`, {
      name: `megaraptor-${id}-day2`,
      documentType: "Command",
      documentFormat: "JSON",
      content: day2.apply((script) =>
        JSON.stringify({
          schemaVersion: "2.2",
          description: `Apply the Velociraptor server config and user list of ${id} (managed by Megaraptor)`,
          parameters: { revision: { type: "String", default: "", description: "Changes whenever the config or the users change; only there to make the association run again" } },
          mainSteps: [{ action: "aws:runShellScript", name: "applyConfigAndUsers", inputs: { runCommand: script.split("\n"), timeoutSeconds: "900" } }],
        }),
      ),
      tags,
    }, p);
    new aws.ssm.Association(`${name}-day2`, {
      name: document.name,
      associationName: `megaraptor-${id}-day2`,
      targets: [{ key: "InstanceIds", values: [instance.id] }],
      parameters: { revision: pulumi.interpolate`${configSecret.version.versionId}/${usersSecret.version.versionId}` },
    }, p);
    if (eip) new aws.ec2.EipAssociation(`${name}-eip-assoc`, { allocationId: eip.allocationId, instanceId: instance.id }, p);
    const publicIp = eip ? eip.publicIp : instance.publicIp;
    if (args.route53) new aws.route53.Record(`${name}-dns`, { zoneId: args.route53.zoneId, name: args.route53.name, type: "A", ttl: 300, records: [publicIp] }, p);

    this.instanceId = instance.id;
    this.publicIp = publicIp;
    this.publish(
      {
        serverUrl: pulumi.interpolate`https://${hostname}:${profile.ports.frontend}/`,
        guiUrl: pulumi.interpolate`https://${hostname}:${profile.ports.gui}/app/index.html`,
        apiAddress,
        apiClientYaml,
        clientConfigYaml: configs.clientConfigYaml,
      },
      { serverConfigYaml: configs.serverConfigYaml, apiClientYamls: configs.apiClientYamls, guiPasswords, instanceId: this.instanceId, publicIp: this.publicIp },
    );
  }
}
