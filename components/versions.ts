import { InputError } from "../core/errors.js";

/** The Velociraptor version Megaraptor deploys: pinned here, overridable per stack; `latest` only on request. */
export const DEFAULT_VELOCIRAPTOR_VERSION = "0.77.2";

export function resolveVelociraptorVersion(v?: string): { version: string; warning?: string } {
  if (!v) return { version: DEFAULT_VELOCIRAPTOR_VERSION };
  if (v === "latest")
    return { version: "latest", warning: `Deploying "latest": the result changes over time and is not reproducible; pin a version (default ${DEFAULT_VELOCIRAPTOR_VERSION}).` };
  if (!/^\d+\.\d+\.\d+$/.test(v)) throw new Error(`version: "${v}" is not a Velociraptor release like ${DEFAULT_VELOCIRAPTOR_VERSION}`);
  return { version: v };
}

export function serverImage(version: string): string {
  return `ghcr.io/velocidex/velociraptor-server:${version}`;
}

/**
 * Release binary URL, e.g. velociraptor-v0.77.2-linux-amd64. From 0.77.1 every patch release has its own tag
 * (download/v0.77.2/…); up to 0.76.x one tag per minor line carried all its patches (download/v0.76/…-v0.76.7-…),
 * as Server.Internal.ToolDependencies of each release names its own assets.
 */
export function releaseBinaryUrl(version: string, platform = "linux-amd64"): string {
  const m = /^(\d+)\.(\d+)\.\d+$/.exec(version);
  if (!m) throw new InputError("version", `"${version}" has no release binary URL (the asset name carries the version)`, "Pin a version such as " + DEFAULT_VELOCIRAPTOR_VERSION + ", or give binaryUrl.");
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const tag = major === 0 && minor <= 76 ? `v${major}.${minor}` : `v${version}`;
  return `https://github.com/Velocidex/velociraptor/releases/download/${tag}/velociraptor-v${version}-${platform}`;
}
