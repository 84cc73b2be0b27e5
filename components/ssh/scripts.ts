/** The shell steps SshBinaryServer runs, as plain functions (tested on their own, reviewable in a preview). */
import { createHash } from "node:crypto";
import { BOOTSTRAP_PATH } from "../common/users.js";

export const BIN = "/usr/local/bin/velociraptor";
export const CONFIG = "/etc/velociraptor/server.config.yaml";
export const UNIT = "/etc/systemd/system/velociraptor_server.service";
export const SERVICE = "velociraptor_server";
export const BOOTSTRAP = BOOTSTRAP_PATH;

/**
 * systemd unit as the official server .deb installs it (velociraptor-api.md §5.2), plus ExecStartPre: the user
 * bootstrap (components/common/users.ts) runs as the service user before every start.
 */
export function systemdUnit(datastore: string): string {
  return `[Unit]
Description=Velociraptor server (managed by Megaraptor)
After=network.target

[Service]
Type=simple
ExecStartPre=/bin/sh ${BOOTSTRAP}
ExecStart=${BIN} --config ${CONFIG} frontend
Restart=always
RestartSec=120
LimitNOFILE=20000
User=velociraptor
Group=velociraptor
WorkingDirectory=${datastore}
AmbientCapabilities=CAP_SYS_RESOURCE CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_SYS_RESOURCE CAP_NET_BIND_SERVICE
NoNewPrivileges=true
ProtectSystem=full
ReadWritePaths=${datastore}

[Install]
WantedBy=multi-user.target
`;
}

/** Lets the same script run as root (no sudo installed, as on minimal images) or as a sudoer. */
export const SUDO_SHIM = 'sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else command sudo "$@"; fi; }';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Minimal Debian/Ubuntu images ship without curl; install it only when missing. */
export const ENSURE_CURL =
  "command -v curl >/dev/null 2>&1 || { if command -v apt-get >/dev/null 2>&1; then sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl ca-certificates; elif command -v dnf >/dev/null 2>&1; then sudo dnf install -y curl; else echo 'curl is missing and no apt-get/dnf to install it' >&2; exit 1; fi; }";

function checkSha(sha256: string): void {
  if (!/^[0-9a-f]{64}$/i.test(sha256)) throw new Error(`binarySha256: "${sha256}" is not a SHA-256 hex digest (64 hex characters)`);
}

/** Downloads the release binary and refuses it unless the SHA-256 matches (cloud-init's first boot). */
export function downloadBinaryScript(url: string, sha256: string): string {
  checkSha(sha256);
  return [
    "set -eu",
    SUDO_SHIM,
    ENSURE_CURL,
    `tmp=$(mktemp)`,
    `curl -fsSL --retry 3 -o "$tmp" ${q(url)}`,
    `echo ${q(`${sha256.toLowerCase()}  `)}"$tmp" | sha256sum -c -`,
    `sudo install -m 0755 "$tmp" ${BIN}`,
    `rm -f "$tmp"`,
  ].join("\n");
}

/**
 * Where a new binary waits between its transfer and its installation, so a wrong one is refused before anything on
 * the host changes. /var/tmp: writable by a non-root SSH user, not wiped on the reboot that may follow.
 */
export function stagePath(nonce: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(nonce)) throw new Error(`stage nonce "${nonce}": letters, digits and '-' only`);
  return `/var/tmp/megaraptor-velociraptor-${nonce}`;
}

/** Exit status of verifyStagedBinaryScript when the digest differs (EX_DATAERR). */
export const SHA_MISMATCH_EXIT = 65;

/**
 * Refuses the staged binary unless its SHA-256 is the pinned one: the file is removed and the message names both
 * digests. Nothing else on the host has been touched when this runs.
 */
export function verifyStagedBinaryScript(stage: string, sha256: string, source: string): string {
  checkSha(sha256);
  return [
    "set -eu",
    `actual=$(sha256sum ${q(stage)} | cut -d' ' -f1)`,
    `if [ "$actual" != ${q(sha256.toLowerCase())} ]; then`,
    `  rm -f ${q(stage)}`,
    `  echo "binarySha256: ${source.replace(/["$`\\]/g, "")} has SHA-256 $actual, not the pinned ${sha256.toLowerCase()}; refused, nothing was installed" >&2`,
    `  exit ${SHA_MISMATCH_EXIT}`,
    "fi",
  ].join("\n");
}

/** Downloads the binary to the stage path (curl installed first if missing) and verifies it. */
export function stageDownloadScript(url: string, sha256: string, stage: string): string {
  checkSha(sha256);
  return [
    "set -eu",
    SUDO_SHIM,
    ENSURE_CURL,
    `rm -f ${q(stage)}`,
    `curl -fsSL --retry 3 -o ${q(stage)} ${q(url)}`,
    verifyStagedBinaryScript(stage, sha256, url),
  ].join("\n");
}

/** Moves a verified staged binary into place. `install` unlinks the old file first, so a running server is unaffected until its restart. */
export function installStagedBinaryScript(stage: string): string {
  return ["set -eu", SUDO_SHIM, `sudo install -m 0755 ${q(stage)} ${BIN}`, `rm -f ${q(stage)}`].join("\n");
}

/**
 * Host preparation: the service user, the datastore and /etc/velociraptor (root:velociraptor 0750, so the service
 * user can traverse it). Idempotent; re-run on change.
 */
export function prepareHostScript(datastore: string): string {
  return [createUserScript(datastore), "sudo install -d -m 0750 -o root -g velociraptor /etc/velociraptor"].join("\n");
}

export function createUserScript(datastore: string): string {
  return [
    "set -eu",
    SUDO_SHIM,
    "id velociraptor >/dev/null 2>&1 || sudo useradd --system --home-dir " + q(datastore) + " --shell /usr/sbin/nologin velociraptor",
    // A datastore kept from an earlier install belongs to the user that uninstall removed: hand it to the new one.
    `if [ -d ${q(datastore)} ] && [ "$(stat -c %U ${q(datastore)})" != velociraptor ]; then sudo chown -R velociraptor:velociraptor ${q(datastore)}; fi`,
    `sudo install -d -o velociraptor -g velociraptor -m 0700 ${q(datastore)}`,
  ].join("\n");
}

/** Writes stdin to a file only the service user can read, so secrets never appear in a command line. */
export function writeSecretFileScript(path: string): string {
  return ["set -eu", SUDO_SHIM, "sudo install -d -m 0750 -o root -g velociraptor /etc/velociraptor", `sudo sh -c 'umask 077; cat > ${path}'`, `sudo chown velociraptor:velociraptor ${path}`, `sudo chmod 0600 ${path}`].join("\n");
}

/** Reads the config from stdin so it never appears in a command line or process list. */
export function writeConfigScript(): string {
  return writeSecretFileScript(CONFIG);
}

export function installUnitScript(): string {
  return ["set -eu", SUDO_SHIM, `sudo sh -c 'cat > ${UNIT}'`, "sudo systemctl daemon-reload", `sudo systemctl enable ${SERVICE}`, `sudo systemctl restart ${SERVICE}`].join("\n");
}

/**
 * Stops and removes the server: unit, binary, config, user bootstrap, /etc/velociraptor and the service user. The
 * datastore (evidence) stays unless `removeDatastore`.
 */
export function uninstallScript(datastore: string, removeDatastore: boolean): string {
  return [
    SUDO_SHIM,
    `sudo systemctl disable --now ${SERVICE} || true`,
    `sudo rm -f ${UNIT} ${CONFIG} ${BOOTSTRAP} ${BIN}`,
    "sudo rmdir /etc/velociraptor 2>/dev/null || true",
    "sudo systemctl daemon-reload || true",
    "sudo systemctl reset-failed velociraptor_server 2>/dev/null || true",
    ...(removeDatastore ? [`sudo rm -rf ${q(datastore)}`] : [`echo 'datastore kept at ${datastore} (evidence); remove it by hand when done'`]),
    "if id velociraptor >/dev/null 2>&1; then sudo userdel velociraptor; fi",
  ].join("\n");
}

/** What is installed, one `key=value` a line (refresh compares it with state). Digests are empty for missing files. */
export function inspectScript(): string {
  const sum = (path: string) => `$(sudo sha256sum ${path} 2>/dev/null | cut -d' ' -f1)`;
  return [
    SUDO_SHIM,
    `echo "binary=${sum(BIN)}"`,
    `echo "config=${sum(CONFIG)}"`,
    `echo "bootstrap=${sum(BOOTSTRAP)}"`,
    `echo "unit=${sum(UNIT)}"`,
    `echo "active=$(systemctl is-active ${SERVICE} 2>/dev/null || true)"`,
    `echo "user=$(id -u velociraptor 2>/dev/null || true)"`,
  ].join("\n");
}

/** Rewrites the unit (stdin) and reloads systemd, without starting anything. */
export function writeUnitScript(): string {
  return ["set -eu", SUDO_SHIM, `sudo sh -c 'umask 022; cat > ${UNIT}'`, "sudo systemctl daemon-reload"].join("\n");
}

/** Enables and (re)starts the service; the restart runs the user bootstrap first (ExecStartPre). */
export function restartScript(): string {
  return ["set -eu", SUDO_SHIM, `sudo systemctl enable --quiet ${SERVICE}`, `sudo systemctl restart ${SERVICE}`].join("\n");
}

/** The last lines of the server's journal, for an error message. */
export function journalScript(lines = 20): string {
  return [SUDO_SHIM, `sudo journalctl -u ${SERVICE} -n ${lines} --no-pager -o cat 2>/dev/null || sudo systemctl status ${SERVICE} --no-pager 2>/dev/null || true`].join("\n");
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
