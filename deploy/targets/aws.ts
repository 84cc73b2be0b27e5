/** An EC2 instance (own VPC or a given subnet) with the release binary: the AwsServer component. */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { BinaryUrl, Cidr, Sha256 } from "../request/base.js";
import { fail, pass } from "../preflight/checks.js";
import { defineTarget } from "./target.js";

export const AwsSettings = z
  .object({
    region: z.string().optional().describe("e.g. eu-west-1 (default AWS_REGION)"),
    subnet_id: z.string().optional().describe("use this subnet instead of creating a VPC"),
    admin_cidrs: z.array(Cidr).default([]).describe("CIDRs allowed to reach the GUI and API (none: use SSM port forwarding)"),
    client_cidrs: z.array(Cidr).optional().describe("CIDRs of endpoints (default anywhere)"),
    instance_type: z.string().optional(),
    spot: z.boolean().default(false),
    elastic_ip: z.boolean().default(false),
    route53: z.object({ zone_id: z.string(), name: z.string() }).strict().optional(),
    binary_sha256: Sha256,
    binary_url: BinaryUrl.optional(),
    key_name: z.string().optional().describe("EC2 key pair for SSH (default none: SSM)"),
  })
  .strict();

export const awsTarget = defineTarget({
  name: "aws",
  title: "an EC2 instance on AWS",
  example: "aws-standard",
  settings: AwsSettings,
  sectionRequired: true,
  async preflight(aws, _s, { env }) {
    const creds = env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || existsSync(join(homedir(), ".aws", "credentials"));
    const region = aws.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    return [
      creds ? pass("aws credentials", "found in the environment or ~/.aws") : fail("aws credentials", "none found", "Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or configure OIDC (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)."),
      region && /^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region) ? pass("aws region", region) : fail("aws region", region ? `"${region}" is not a region name` : "not set", "Set aws.region (e.g. eu-west-1) or AWS_REGION."),
    ];
  },
  async build(a, { name, base, opts }) {
    const [aws, { AwsServer }] = await Promise.all([import("@pulumi/aws"), import("../../components/aws/index.js")]);
    const provider = a.region ? new aws.Provider(`${name}-aws`, { region: a.region }) : undefined;
    return new AwsServer(
      name,
      {
        ...base,
        subnetId: a.subnet_id,
        adminCidrs: a.admin_cidrs,
        clientCidrs: a.client_cidrs,
        instanceType: a.instance_type,
        spot: a.spot,
        elasticIp: a.elastic_ip,
        route53: a.route53 ? { zoneId: a.route53.zone_id, name: a.route53.name } : undefined,
        binarySha256: a.binary_sha256,
        binaryUrl: a.binary_url,
        keyName: a.key_name,
      },
      { ...opts, providers: provider ? { aws: provider } : opts.providers },
    );
  },
});
