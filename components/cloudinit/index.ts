/**
 * The first-boot script for cloud VMs (AWS user data, Azure custom data): prepare the data disk, install the
 * checksum-verified binary, fetch or write the config (0600), and start the same systemd unit as SshBinaryServer.
 */
import * as s from "../ssh/scripts.js";

export interface CloudInitInput {
  binaryUrl: string;
  binarySha256: string;
  datastore: string;
  /** Shell that prints the server config on stdout (e.g. fetch from SSM), or the config inline (heredoc). */
  config: { fetchCommand: string } | { inline: string };
  /** Device path of the data disk, or a glob that resolves to it. */
  dataDevice?: string;
  packages?: string[];
}

export function renderCloudInit(i: CloudInitInput): string {
  const disk = i.dataDevice
    ? [
        `for _ in $(seq 1 60); do dev=$(ls ${i.dataDevice} 2>/dev/null | head -n1 || true); [ -n "$dev" ] && break; sleep 5; done`,
        `[ -n "$dev" ] || { echo "data disk ${i.dataDevice} never appeared" >&2; exit 1; }`,
        `blkid "$dev" >/dev/null || mkfs.ext4 -L velociraptor "$dev"`,
        `mkdir -p ${i.datastore}`,
        `grep -q 'LABEL=velociraptor' /etc/fstab || echo 'LABEL=velociraptor ${i.datastore} ext4 defaults,nofail 0 2' >> /etc/fstab`,
        "mount -a",
      ]
    : [];
  const config =
    "fetchCommand" in i.config
      ? `${i.config.fetchCommand} | ${"sudo sh -c 'umask 077; cat > " + s.CONFIG + "'"}`
      : `cat <<'MEGARAPTOR_CONFIG_EOF' | sudo sh -c 'umask 077; cat > ${s.CONFIG}'\n${i.config.inline}\nMEGARAPTOR_CONFIG_EOF`;
  return [
    "#!/bin/bash",
    "# Megaraptor: Velociraptor server bootstrap",
    "set -euo pipefail",
    "export DEBIAN_FRONTEND=noninteractive",
    s.SUDO_SHIM,
    `apt-get update -q && apt-get install -y -q ${["curl", "sudo", ...(i.packages ?? [])].join(" ")}`,
    ...disk,
    s.downloadBinaryScript(i.binaryUrl, i.binarySha256).replace(`set -eu\n${s.SUDO_SHIM}\n`, ""),
    s.createUserScript(i.datastore).replace(`set -eu\n${s.SUDO_SHIM}\n`, ""),
    "install -d -m 0750 /etc/velociraptor",
    config,
    `chown velociraptor:velociraptor ${s.CONFIG} && chmod 0600 ${s.CONFIG}`,
    `cat > ${s.UNIT} <<'MEGARAPTOR_UNIT_EOF'\n${s.systemdUnit(i.datastore)}MEGARAPTOR_UNIT_EOF`,
    "systemctl daemon-reload",
    `systemctl enable --now ${s.SERVICE}`,
    "",
  ].join("\n");
}
