/** A Linux host reachable over SSH with sudo: the Velociraptor release binary installed by SshBinaryServer. */
import { z } from "zod";
import { BinaryUrl, Sha256 } from "../request/base.js";
import { fail, pass, sshProbe } from "../preflight/checks.js";
import { defineTarget } from "./target.js";

export const SshSettings = z
  .object({
    host: z.string().min(1).describe("host name or address of the server host"),
    port: z.number().int().min(1).max(65535).default(22).describe("SSH port (default 22)"),
    user: z.string().min(1).default("root").describe("SSH user: root, or a user with passwordless sudo (default root)"),
    binary_path: z.string().optional().describe("local path of a velociraptor binary to copy instead of downloading one"),
    binary_url: BinaryUrl.optional(),
    binary_sha256: Sha256.optional().describe("SHA-256 of the Velociraptor binary the host downloads (required unless binary_path)"),
    datastore_path: z.string().optional().describe("default /var/lib/velociraptor"),
    open_firewall: z.boolean().default(false).describe("open the frontend (and GUI/API when bound to all) in ufw"),
    remove_datastore_on_delete: z.boolean().default(false).describe("delete the datastore (evidence!) on destroy"),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (!s.binary_path && !s.binary_sha256) ctx.addIssue({ code: "custom", path: ["binary_sha256"], message: "required when the binary is downloaded (or set ssh.binary_path)" });
  });

export const sshTarget = defineTarget({
  name: "ssh",
  title: "a Debian/Ubuntu host over SSH (release binary, systemd)",
  example: "ssh-lab",
  settings: SshSettings,
  sectionRequired: true,
  async preflight(ssh, _s, { secrets }) {
    const r = await sshProbe({ host: ssh.host, port: ssh.port, user: ssh.user, privateKey: secrets.sshPrivateKey as string | undefined, password: secrets.sshPassword as string | undefined });
    if (!r.connected) return [fail("ssh reachable", `${ssh.user}@${ssh.host}:${ssh.port}: ${r.error}`, "Check host, port, user and the key (store it with store_credential and pass ssh_credential).")];
    return [
      pass("ssh reachable", `${ssh.user}@${ssh.host}:${ssh.port}`),
      r.sudo ? pass("sudo without a password", "root, or sudo -n true succeeded") : fail("sudo without a password", "sudo -n true failed", `Give ${ssh.user} passwordless sudo (e.g. /etc/sudoers.d/megaraptor) or use root.`),
    ];
  },
  async build(ssh, { name, base, secrets, opts }) {
    const { SshBinaryServer } = await import("../../components/ssh/index.js");
    return new SshBinaryServer(
      name,
      {
        ...base,
        connection: { host: ssh.host, port: ssh.port, user: ssh.user, privateKey: secrets.sshPrivateKey, password: secrets.sshPassword },
        binaryPath: ssh.binary_path,
        binaryUrl: ssh.binary_url,
        binarySha256: ssh.binary_sha256,
        datastorePath: ssh.datastore_path,
        openFirewall: ssh.open_firewall,
        removeDatastoreOnDelete: ssh.remove_datastore_on_delete,
      },
      opts,
    );
  },
});
