/**
 * The first-boot script for cloud VMs (AWS user data, Azure custom data): prepare the data disk, install the
 * checksum-verified binary, create the service user, write the config and the user bootstrap (service user only,
 * 0600), and start the same systemd unit as SshBinaryServer (which runs the bootstrap before every start).
 */
import * as s from "../ssh/scripts.js";

/** A file the script writes: fetched by a shell command that prints it, or carried inline (heredoc). */
export type FileSource = { fetchCommand: string } | { inline: string };

export interface CloudInitInput {
  binaryUrl: string;
  binarySha256: string;
  datastore: string;
  /** The server config. */
  config: FileSource;
  /** The user bootstrap script (components/common/users.ts). */
  users: FileSource;
  /** Device paths the data disk may appear as (the first that exists is used). */
  dataDevices?: string[];
  packages?: string[];
  /** Shell run after the packages are installed and before anything else (e.g. install an agent). */
  extraSetup?: string[];
}

function writeSecretFile(source: FileSource, path: string, marker: string): string[] {
  const sink = `sh -c 'umask 077; cat > ${path}'`;
  const write = "fetchCommand" in source ? `${source.fetchCommand} | ${sink}` : `cat <<'${marker}' | ${sink}\n${source.inline}\n${marker}`;
  return [write, `chown velociraptor:velociraptor ${path} && chmod 0600 ${path}`];
}

export function renderCloudInit(i: CloudInitInput): string {
  const candidates = (i.dataDevices ?? []).map((d) => `'${d}'`).join(" ");
  const disk = i.dataDevices?.length
    ? [
        // Wait for the data disk itself (attachments can land after boot), never "the first disk that shows up".
        `dev=""; for _ in $(seq 1 120); do for d in ${candidates}; do [ -e "$d" ] && dev=$(readlink -f "$d") && break 2; done; sleep 5; done`,
        `[ -n "$dev" ] || { echo "data disk (${i.dataDevices.join(" or ")}) never appeared" >&2; exit 1; }`,
        `blkid "$dev" >/dev/null || mkfs.ext4 -L velociraptor "$dev"`,
        `mkdir -p ${i.datastore}`,
        `grep -q 'LABEL=velociraptor' /etc/fstab || echo 'LABEL=velociraptor ${i.datastore} ext4 defaults,nofail 0 2' >> /etc/fstab`,
        "mount -a",
        `mountpoint -q ${i.datastore} || { echo "datastore ${i.datastore} is not on the data disk" >&2; exit 1; }`,
      ]
    : [];
  return [
    "#!/bin/bash",
    "# Megaraptor: Velociraptor server bootstrap",
    "set -euo pipefail",
    "export DEBIAN_FRONTEND=noninteractive",
    s.SUDO_SHIM,
    `apt-get update -q && apt-get install -y -q ${["curl", "sudo", ...(i.packages ?? [])].join(" ")}`,
    ...(i.extraSetup ?? []),
    ...disk,
    s.downloadBinaryScript(i.binaryUrl, i.binarySha256).replace(`set -eu\n${s.SUDO_SHIM}\n`, ""),
    // The service user first, then its config directory (root:velociraptor 0750): the unit runs as that user and
    // must traverse /etc/velociraptor to read its config.
    s.prepareHostScript(i.datastore).replaceAll(`set -eu\n${s.SUDO_SHIM}\n`, ""),
    ...writeSecretFile(i.config, s.CONFIG, "MEGARAPTOR_CONFIG_EOF"),
    ...writeSecretFile(i.users, s.BOOTSTRAP, "MEGARAPTOR_USERS_EOF"),
    `cat > ${s.UNIT} <<'MEGARAPTOR_UNIT_EOF'\n${s.systemdUnit(i.datastore)}MEGARAPTOR_UNIT_EOF`,
    "systemctl daemon-reload",
    `systemctl enable --now ${s.SERVICE}`,
    "",
  ].join("\n");
}
