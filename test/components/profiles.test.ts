import { describe, expect, it } from "vitest";
import { loadProfile, PROFILE_NAMES } from "../../profiles/index.js";
import { DEFAULT_VELOCIRAPTOR_VERSION, releaseBinaryUrl, resolveVelociraptorVersion, serverImage } from "../../components/versions.js";

describe("profiles", () => {
  it.each(PROFILE_NAMES)("%s loads and validates", (name) => {
    expect(loadProfile(name).name).toBe(name);
  });

  it("have the shapes the issue asks for", () => {
    const minimal = loadProfile("minimal");
    expect(minimal).toMatchObject({ resources: { memoryMb: 512 }, frontends: { count: 1 }, binds: { gui: "localhost" }, monitoring: false });
    expect(loadProfile("rapid")).toMatchObject({ tls: { selfSigned: true }, autoExpiryHours: 72 });
    expect(loadProfile("rapid").tls.certificateValidityDays).toBeLessThan(minimal.tls.certificateValidityDays);
    expect(loadProfile("standard")).toMatchObject({ resources: { memoryMb: 2048 }, binds: { gui: "localhost" } });
    const ent = loadProfile("enterprise");
    expect(ent.frontends.count).toBeGreaterThan(1);
    expect(ent.monitoring).toBe(true);
    expect(ent.highAvailability).toBe(true);
  });

  // C3: no target scheduled backups, so no profile promises them (evidence retention is documented per target).
  it("promise nothing the targets do not do: no backups field", () => {
    for (const name of PROFILE_NAMES) expect(Object.keys(loadProfile(name)), name).not.toContain("backups");
    expect(() => loadProfile("standard", { backups: true } as never)).toThrow(/profile.*backups/);
  });

  it("applies deep overrides", () => {
    const p = loadProfile("standard", { resources: { memoryMb: 4096 }, binds: { api: "all" } });
    expect(p.resources).toEqual({ memoryMb: 4096, cpus: 2, datastoreGb: 200 });
    expect(p.binds.api).toBe("all");
  });

  it("rejects bad values and unknown fields, naming the path", () => {
    expect(() => loadProfile("minimal", { resources: { memoryMb: 100 } })).toThrow(/profile\.resources\.memoryMb/);
    expect(() => loadProfile("minimal", { resources: { memroyMb: 1024 } } as never)).toThrow(/profile\.resources.*memroyMb/);
    expect(() => loadProfile("huge")).toThrow(/profile: unknown profile "huge"/);
  });
});

describe("version pin", () => {
  it("defaults to the pinned version; latest only explicitly and with a warning", () => {
    expect(resolveVelociraptorVersion()).toEqual({ version: DEFAULT_VELOCIRAPTOR_VERSION });
    expect(resolveVelociraptorVersion("latest").warning).toMatch(/not reproducible/);
    expect(() => resolveVelociraptorVersion("0.77")).toThrow(/not a Velociraptor release/);
    expect(serverImage("0.77.2")).toBe("ghcr.io/velocidex/velociraptor-server:0.77.2");
  });

  // C1: Artifact Server.Internal.ToolDependencies names the release assets of its own version: from 0.77.1 each
  // patch has its own tag (download/v0.77.1/velociraptor-v0.77.1-…, tag v0.77.1), up to 0.76.x one tag per minor
  // release (download/v0.76/velociraptor-v0.76.7-…, tag v0.76.7; download/v0.75/velociraptor-v0.75.6-…, tag v0.75.6).
  it("builds the release URL the way each release line publishes it", () => {
    expect(releaseBinaryUrl("0.77.2")).toBe("https://github.com/Velocidex/velociraptor/releases/download/v0.77.2/velociraptor-v0.77.2-linux-amd64");
    expect(releaseBinaryUrl("0.76.7")).toBe("https://github.com/Velocidex/velociraptor/releases/download/v0.76/velociraptor-v0.76.7-linux-amd64");
    expect(releaseBinaryUrl("0.75.6", "windows-amd64.exe")).toBe("https://github.com/Velocidex/velociraptor/releases/download/v0.75/velociraptor-v0.75.6-windows-amd64.exe");
    expect(releaseBinaryUrl("1.0.0")).toBe("https://github.com/Velocidex/velociraptor/releases/download/v1.0.0/velociraptor-v1.0.0-linux-amd64");
    // The asset name carries the version, so "latest" has no binary URL.
    expect(() => releaseBinaryUrl("latest")).toThrow(/version: "latest" has no release binary URL/);
  });
});
