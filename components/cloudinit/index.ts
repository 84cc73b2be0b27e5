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

export interface Day2Input {
  /** The server config, as the cloud delivers it now. */
  config: FileSource;
  /** The user bootstrap script (components/common/users.ts), as the cloud delivers it now. */
  users: FileSource;
  /** Shell run before the files are fetched (e.g. the IMDSv2 token and region the AWS CLI needs). */
  prelude?: string[];
  /**
   * Delete this script's own file when done: Azure's Custom Script extension leaves the decoded script (here with the
   * config inline) as script.sh under its download folder (custom-script-extension-linux main/cmds.go writeTempScript).
   */
  removeSelf?: boolean;
}

/**
 * The day-2 script for cloud VMs (B5). Cloud-init runs user data / custom data once, at first boot, so a changed
 * server config or user list (certificate rotation, a new or removed API or GUI user) would otherwise never reach
 * the server. The cloud runs this on every such change (AWS: an SSM association, Azure: a Custom Script extension):
 * it writes the new config and user bootstrap and restarts the service, whose ExecStartPre runs the bootstrap before
 * the server starts — new users are created and dropped ones revoked (components/common/users.ts). Files that did not
 * change mean no restart. POSIX sh: the SSM agent and the Custom Script extension start it with /bin/sh.
 */
export function renderDay2Script(i: Day2Input): string {
  const fetch = (source: FileSource, file: string, marker: string) =>
    "fetchCommand" in source ? `${source.fetchCommand} > "$tmp/${file}"` : `cat > "$tmp/${file}" <<'${marker}'\n${source.inline}\n${marker}`;
  return [
    "#!/bin/sh",
    "# Megaraptor: apply a changed server config and user list to a running Velociraptor server (day 2).",
    "set -eu",
    // Created together with the VM, the first run can start while cloud-init still installs: wait for it (it writes
    // the same files, so this run then finds nothing to change).
    "cloud-init status --wait >/dev/null 2>&1 || true",
    `if [ ! -x ${s.BIN} ] || ! id velociraptor >/dev/null 2>&1; then echo "Velociraptor is not installed here: first boot failed (see /var/log/cloud-init-output.log)" >&2; exit 1; fi`,
    ...(i.prelude ?? []),
    'tmp=$(mktemp -d)',
    i.removeSelf ? `trap 'rm -rf "$tmp"; rm -f -- "$0"' EXIT` : `trap 'rm -rf "$tmp"' EXIT`,
    fetch(i.config, "config", "MEGARAPTOR_CONFIG_EOF"),
    fetch(i.users, "users", "MEGARAPTOR_USERS_EOF"),
    // Without pipefail in sh: refuse an empty fetch rather than install an empty config.
    `[ -s "$tmp/config" ] && [ -s "$tmp/users" ] || { echo "the server config or the user bootstrap came back empty; nothing changed" >&2; exit 1; }`,
    `if cmp -s "$tmp/config" ${s.CONFIG} && cmp -s "$tmp/users" ${s.BOOTSTRAP}; then echo "config and users unchanged"; exit 0; fi`,
    `install -m 0600 -o velociraptor -g velociraptor "$tmp/config" ${s.CONFIG}`,
    `install -m 0600 -o velociraptor -g velociraptor "$tmp/users" ${s.BOOTSTRAP}`,
    // A failing user bootstrap (ExecStartPre) fails the restart: show why, and fail the run so the cloud reports it.
    `if ! systemctl restart ${s.SERVICE} || ! systemctl is-active --quiet ${s.SERVICE}; then journalctl -u ${s.SERVICE} -n 30 --no-pager -o cat >&2; exit 1; fi`,
    'echo "config and users applied; server restarted"',
    "",
  ].join("\n");
}
