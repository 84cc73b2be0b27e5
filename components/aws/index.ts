/**
 * AwsServer: Velociraptor on an EC2 instance. A new VPC/subnet (or an existing subnet), a security group opening
 * only the frontend to clients and GUI/API to admin CIDRs, a Debian 12 AMI, an encrypted EBS datastore volume, and
 * an instance role that may read exactly one SSM SecureString — the server config — which cloud-init fetches, so
 * keys are not in user data. Optional Elastic IP, Route 53 record and spot pricing. Everything taggable is tagged.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { VelociraptorServerComponent } from "../common/server.js";
import { renderCloudInit } from "../cloudinit/index.js";
import { checkDeploymentId, deploymentTags, resolveProfile, resolveVersion, type DeploymentBaseArgs } from "../common/index.js";
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

export class AwsServer extends VelociraptorServerComponent {
  readonly instanceId: pulumi.Output<string>;
  readonly publicIp: pulumi.Output<string>;

  constructor(name: string, args: AwsServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("megaraptor:index:AwsServer", name, {}, opts);
    checkDeploymentId(args.deploymentId);
    const profile = withAdminAccess(resolveProfile(args), args.adminCidrs);
    const version = resolveVersion(args.version);
    const tags = deploymentTags(args, profile);
    const p = { parent: this };
    const id = args.deploymentId;

    let subnetId: pulumi.Input<string>;
    let vpcId: pulumi.Input<string>;
    if (args.subnetId) {
      subnetId = args.subnetId;
      vpcId = aws.ec2.getSubnetOutput({ id: args.subnetId }, p).vpcId;
    } else {
      const cidr = args.vpcCidr ?? "10.77.0.0/16";
      const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { ...tags, Name: `megaraptor-${id}` } }, p);
      const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, p);
      const subnet = new aws.ec2.Subnet(`${name}-subnet`, { vpcId: vpc.id, cidrBlock: cidr.replace(/\.0\.0\/16$/, ".1.0/24"), mapPublicIpOnLaunch: true, tags }, p);
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
    const { configs, apiAddress, apiClientYaml } = serverIdentity(name, args, profile, version, this, { datastorePath: DATASTORE, apiHost: hostname, moreNames });

    const param = new aws.ssm.Parameter(`${name}-config`, { name: `/megaraptor/${id}/server.config.yaml`, type: "SecureString", tier: "Advanced", value: configs.serverConfigYaml, tags }, p);
    const role = new aws.iam.Role(`${name}-role`, {
      assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
      tags,
    }, p);
    new aws.iam.RolePolicyAttachment(`${name}-ssm-core`, { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" }, p);
    new aws.iam.RolePolicy(`${name}-read-config`, {
      role: role.id,
      policy: param.arn.apply((arn) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["ssm:GetParameter"], Resource: arn }] })),
    }, p);
    const profileRes = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, p);

    const ami = aws.ec2.getAmiOutput({ mostRecent: true, owners: ["136693071363"], filters: [{ name: "name", values: ["debian-12-amd64-*"] }, { name: "architecture", values: ["x86_64"] }] }, p);
    const userData = pulumi.output(args.binarySha256).apply((sha) =>
      renderCloudInit({
        binaryUrl: args.binaryUrl ?? releaseBinaryUrl(version),
        binarySha256: sha,
        datastore: DATASTORE,
        packages: ["awscli"],
        dataDevice: "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_*",
        config: { fetchCommand: `aws ssm get-parameter --region "$(curl -s http://169.254.169.254/latest/meta-data/placement/region)" --with-decryption --name /megaraptor/${id}/server.config.yaml --query Parameter.Value --output text` },
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
      rootBlockDevice: { encrypted: true, volumeSize: 20, volumeType: "gp3", tags },
      instanceMarketOptions: args.spot ? { marketType: "spot", spotOptions: { instanceInterruptionBehavior: "stop", spotInstanceType: "persistent" } } : undefined,
      tags: { ...tags, Name: `megaraptor-${id}` },
      volumeTags: tags,
    }, { parent: this, dependsOn: [param] });
    const data = new aws.ebs.Volume(`${name}-datastore`, { availabilityZone: instance.availabilityZone, size: profile.resources.datastoreGb, type: "gp3", encrypted: true, tags }, p);
    new aws.ec2.VolumeAttachment(`${name}-datastore-attach`, { deviceName: "/dev/sdf", volumeId: data.id, instanceId: instance.id }, p);
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
      { serverConfigYaml: configs.serverConfigYaml, apiClientYamls: configs.apiClientYamls, instanceId: this.instanceId, publicIp: this.publicIp },
    );
  }
}
