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

/** Release binary URL, e.g. velociraptor-v0.77.2-linux-amd64. */
export function releaseBinaryUrl(version: string, platform = "linux-amd64"): string {
  return `https://github.com/Velocidex/velociraptor/releases/download/v${version}/velociraptor-v${version}-${platform}`;
}
