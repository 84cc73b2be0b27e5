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

/** Downloads the release binary and refuses it unless the SHA-256 matches. */
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
 * Installs the binary CopyToRemote uploaded, after checking its SHA-256. The copy is removed once installed, so a
 * re-run with nothing new uploaded (e.g. only this script changed) accepts an installed binary with the same digest.
 */
export function installCopiedBinaryScript(remoteTmp: string, sha256: string): string {
  checkSha(sha256);
  const sum = `${sha256.toLowerCase()}  `;
  return [
    "set -eu",
    SUDO_SHIM,
    `if [ -f ${q(remoteTmp)} ]; then`,
    `  echo ${q(sum)}${q(remoteTmp)} | sha256sum -c -`,
    `  sudo install -m 0755 ${q(remoteTmp)} ${BIN}`,
    `  rm -f ${q(remoteTmp)}`,
    "else",
    `  echo ${q(sum)}${BIN} | sha256sum -c -`,
    "fi",
  ].join("\n");
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

export function uninstallScript(datastore: string, removeDatastore: boolean): string {
  return [
    SUDO_SHIM,
    `sudo systemctl disable --now ${SERVICE} || true`,
    `sudo rm -f ${UNIT} ${CONFIG} ${BOOTSTRAP} ${BIN}`,
    "sudo systemctl daemon-reload || true",
    ...(removeDatastore ? [`sudo rm -rf ${q(datastore)}`, "sudo userdel velociraptor || true"] : [`echo 'datastore kept at ${datastore} (evidence); remove it by hand when done'`]),
  ].join("\n");
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
