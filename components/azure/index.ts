/**
 * AzureServer: Velociraptor on an Azure VM. Resource group (new or existing), VNet/subnet, an NSG with the same
 * rules as AWS (frontend to clients, GUI/API only to admin CIDRs), optional public IP with DNS label, a Debian 12 VM
 * sized by the profile with a managed data disk, and cloud-init in customData (a secret; Azure does not serve
 * customData through instance metadata). Spot priority optional. Every resource tagged.
 */
import * as compute from "@pulumi/azure-native/compute/index.js";
import * as network from "@pulumi/azure-native/network/index.js";
import * as resources from "@pulumi/azure-native/resources/index.js";
import * as pulumi from "@pulumi/pulumi";
import { VelociraptorServerComponent } from "../common/server.js";
import { createHash } from "node:crypto";
import { renderCloudInit, renderDay2Script } from "../cloudinit/index.js";
import { checkDeploymentId, deploymentTagsOutput, resolveProfile, resolveVersion, type DeploymentBaseArgs } from "../common/index.js";
import { exposureRules, withAdminAccess } from "../common/network.js";
import { serverIdentity } from "../common/identity.js";
import { releaseBinaryUrl } from "../versions.js";

export interface AzureServerArgs extends DeploymentBaseArgs {
  location: string;
  resourceGroupName?: pulumi.Input<string>;
  adminCidrs?: string[];
  clientCidrs?: string[];
  vmSize?: string;
  spot?: boolean;
  publicIp?: boolean;
  dnsLabel?: string;
  adminUsername?: string;
  /** SSH public key for the admin user (password login is disabled). */
  sshPublicKey: pulumi.Input<string>;
  binarySha256: string;
  binaryUrl?: string;
}

const DATASTORE = "/var/lib/velociraptor";

export class AzureServer extends VelociraptorServerComponent {
  readonly vmId: pulumi.Output<string>;

  constructor(name: string, args: AzureServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("megaraptor:index:AzureServer", name, {}, opts);
    checkDeploymentId(args.deploymentId);
    const profile = withAdminAccess(resolveProfile(args), args.adminCidrs);
    const version = resolveVersion(args.version);
    const tags = deploymentTagsOutput(name, args, profile, this);
    const p = { parent: this };
    const id = args.deploymentId;

    const rgName = args.resourceGroupName ?? new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: `megaraptor-${id}`, location: args.location, tags }, p).name;
    const vnet = new network.VirtualNetwork(`${name}-vnet`, { resourceGroupName: rgName, location: args.location, addressSpace: { addressPrefixes: ["10.78.0.0/16"] }, tags }, p);
    // The admin user logs in with sshPublicKey; without an SSH rule that key is useless. Admin CIDRs only.
    const rules = [...exposureRules(profile, args), ...(args.adminCidrs?.length ? [{ name: "ssh", port: 22, cidrs: args.adminCidrs, description: "SSH for the admin user (admins)" }] : [])];
    const nsg = new network.NetworkSecurityGroup(`${name}-nsg`, {
      resourceGroupName: rgName,
      location: args.location,
      securityRules: rules.map((r, i) => ({
        name: `allow-${r.name}`,
        priority: 100 + i * 10,
        direction: "Inbound",
        access: "Allow",
        protocol: "Tcp",
        sourcePortRange: "*",
        destinationPortRange: String(r.port),
        sourceAddressPrefixes: r.cidrs,
        destinationAddressPrefix: "*",
        description: r.description,
      })),
      tags,
    }, p);
    const subnet = new network.Subnet(`${name}-subnet`, { resourceGroupName: rgName, virtualNetworkName: vnet.name, addressPrefix: "10.78.1.0/24", networkSecurityGroup: { id: nsg.id } }, p);
    const pip = args.publicIp ?? true
      ? new network.PublicIPAddress(`${name}-pip`, {
          resourceGroupName: rgName,
          location: args.location,
          publicIPAllocationMethod: "Static",
          sku: { name: "Standard" },
          dnsSettings: args.dnsLabel ? { domainNameLabel: args.dnsLabel } : undefined,
          tags,
        }, p)
      : undefined;
    const nic = new network.NetworkInterface(`${name}-nic`, {
      resourceGroupName: rgName,
      location: args.location,
      ipConfigurations: [{ name: "primary", subnet: { id: subnet.id }, privateIPAllocationMethod: "Dynamic", publicIPAddress: pip ? { id: pip.id } : undefined }],
      networkSecurityGroup: { id: nsg.id },
      tags,
    }, p);

    const hostname = pulumi.output(args.hostname);
    const { configs, apiAddress, apiClientYaml, guiPasswords, usersScript } = serverIdentity(name, args, profile, version, this, { datastorePath: DATASTORE, apiHost: hostname });
    const users = usersScript("/usr/local/bin/velociraptor");
    const customData = pulumi.secret(
      pulumi.all([configs.serverConfigYaml, users]).apply(([config, users]) =>
        Buffer.from(
          renderCloudInit({
            binaryUrl: args.binaryUrl ?? releaseBinaryUrl(version),
            binarySha256: args.binarySha256,
            datastore: DATASTORE,
            // The Azure Linux agent's udev rules name data disks by LUN.
            dataDevices: ["/dev/disk/azure/scsi1/lun0"],
            config: { inline: config },
            users: { inline: users },
          }),
        ).toString("base64"),
      ),
    );
    const admin = args.adminUsername ?? "megaraptor";
    const vm = new compute.VirtualMachine(`${name}-vm`, {
      resourceGroupName: rgName,
      location: args.location,
      hardwareProfile: { vmSize: args.vmSize ?? profile.cloud.azureVmSize },
      networkProfile: { networkInterfaces: [{ id: nic.id, primary: true }] },
      osProfile: {
        computerName: `vr-${id}`.slice(0, 15),
        adminUsername: admin,
        customData,
        linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [{ path: `/home/${admin}/.ssh/authorized_keys`, keyData: args.sshPublicKey }] } },
      },
      storageProfile: {
        imageReference: { publisher: "Debian", offer: "debian-12", sku: "12-gen2", version: "latest" },
        osDisk: { createOption: "FromImage", managedDisk: { storageAccountType: "Premium_LRS" }, deleteOption: "Delete" },
        dataDisks: [{ lun: 0, createOption: "Empty", diskSizeGB: profile.resources.datastoreGb, managedDisk: { storageAccountType: "Premium_LRS" }, deleteOption: "Detach" }],
      },
      securityProfile: { encryptionAtHost: false },
      priority: args.spot ? "Spot" : "Regular",
      evictionPolicy: args.spot ? "Deallocate" : undefined,
      billingProfile: args.spot ? { maxPrice: -1 } : undefined,
      tags: tags.apply((t) => ({ ...t, Name: `megaraptor-${id}` })),
      // customData is read by cloud-init at provisioning only; later changes go through the day-2 extension below
      // and must never touch (or replace) the VM.
    }, { parent: this, ignoreChanges: ["osProfile.customData"] });

    // Day 2 (B5): a Custom Script extension (Microsoft.Azure.Extensions/CustomScript 2.1) runs the apply script with
    // the config inline in its protected settings, which Azure keeps encrypted and decrypts only on the VM
    // (Azure/custom-script-extension-linux main/handlersettings.go: `script`, base64, accepted in protectedSettings;
    // main/cmds.go: at most 256 KiB, written to script.sh and run — the script deletes that copy when done).
    // The extension runs again whenever its configuration changes (that repository's README: "If you change anything
    // in the extension configuration and deploy it again, the command will be executed again"); forceUpdateTag, a
    // digest of the script, makes the change visible even where protected settings cannot be compared.
    const day2 = pulumi.all([configs.serverConfigYaml, users]).apply(([config, users]) => renderDay2Script({ config: { inline: config }, users: { inline: users }, removeSelf: true }));
    new compute.VirtualMachineExtension(`${name}-day2`, {
      resourceGroupName: rgName,
      vmName: vm.name,
      location: args.location,
      vmExtensionName: "megaraptor-day2",
      publisher: "Microsoft.Azure.Extensions",
      type: "CustomScript",
      typeHandlerVersion: "2.1",
      autoUpgradeMinorVersion: true,
      protectedSettings: pulumi.secret(day2.apply((script) => ({ script: Buffer.from(script).toString("base64") }))),
      forceUpdateTag: pulumi.unsecret(day2.apply((script) => createHash("sha256").update(script).digest("hex").slice(0, 32))),
      tags,
    }, p);

    this.vmId = vm.id;
    this.publish(
      {
        serverUrl: pulumi.interpolate`https://${hostname}:${profile.ports.frontend}/`,
        guiUrl: pulumi.interpolate`https://${hostname}:${profile.ports.gui}/app/index.html`,
        apiAddress,
        apiClientYaml,
        clientConfigYaml: configs.clientConfigYaml,
      },
      { serverConfigYaml: configs.serverConfigYaml, apiClientYamls: configs.apiClientYamls, guiPasswords, vmId: this.vmId },
    );
  }
}
