/** An Azure VM with the release binary: the AzureServer component. */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { BinaryUrl, Cidr, Sha256 } from "../request/base.js";
import { fail, pass } from "../preflight/checks.js";
import { defineTarget } from "./target.js";

export const AzureSettings = z
  .object({
    location: z.string().describe("e.g. westeurope"),
    resource_group_name: z.string().optional().describe("use this resource group instead of creating one"),
    admin_cidrs: z.array(Cidr).default([]).describe("CIDRs allowed to reach the GUI, API and SSH"),
    client_cidrs: z.array(Cidr).optional().describe("CIDRs of endpoints (default anywhere)"),
    vm_size: z.string().optional(),
    spot: z.boolean().default(false),
    dns_label: z.string().optional(),
    ssh_public_key: z.string().describe("SSH public key of the admin user (password login is disabled)"),
    binary_sha256: Sha256,
    binary_url: BinaryUrl.optional(),
  })
  .strict();

export const azureTarget = defineTarget({
  name: "azure",
  title: "an Azure VM",
  example: "azure-standard",
  settings: AzureSettings,
  sectionRequired: true,
  async preflight(azure, _s, { env }) {
    const creds = ((env.ARM_CLIENT_ID || env.AZURE_CLIENT_ID) && (env.ARM_TENANT_ID || env.AZURE_TENANT_ID)) || existsSync(join(homedir(), ".azure", "azureProfile.json"));
    return [
      creds ? pass("azure credentials", "service principal variables or az login profile found") : fail("azure credentials", "none found", "Run `az login`, or set ARM_CLIENT_ID, ARM_CLIENT_SECRET (or OIDC), ARM_TENANT_ID, ARM_SUBSCRIPTION_ID."),
      /^[a-z0-9]+$/.test(azure.location) ? pass("azure location", azure.location) : fail("azure location", `"${azure.location}" is not a location name`, "Use a location like westeurope or eastus."),
    ];
  },
  async build(a, { name, base, opts }) {
    const { AzureServer } = await import("../../components/azure/index.js");
    return new AzureServer(
      name,
      {
        ...base,
        location: a.location,
        resourceGroupName: a.resource_group_name,
        adminCidrs: a.admin_cidrs,
        clientCidrs: a.client_cidrs,
        vmSize: a.vm_size,
        spot: a.spot,
        dnsLabel: a.dns_label,
        sshPublicKey: a.ssh_public_key,
        binarySha256: a.binary_sha256,
        binaryUrl: a.binary_url,
      },
      opts,
    );
  },
});
