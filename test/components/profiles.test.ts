import { describe, expect, it } from "vitest";
import { loadProfile, PROFILE_NAMES } from "../../profiles/index.js";
import { DEFAULT_VELOCIRAPTOR_VERSION, resolveVelociraptorVersion, serverImage } from "../../components/versions.js";

describe("profiles", () => {
  it.each(PROFILE_NAMES)("%s loads and validates", (name) => {
    expect(loadProfile(name).name).toBe(name);
  });

  it("have the shapes the issue asks for", () => {
    const minimal = loadProfile("minimal");
    expect(minimal).toMatchObject({ resources: { memoryMb: 512 }, frontends: { count: 1 }, binds: { gui: "localhost" }, monitoring: false });
    expect(loadProfile("rapid")).toMatchObject({ tls: { selfSigned: true }, autoExpiryHours: 72 });
    expect(loadProfile("rapid").tls.certificateValidityDays).toBeLessThan(minimal.tls.certificateValidityDays);
    expect(loadProfile("standard")).toMatchObject({ backups: true, resources: { memoryMb: 2048 }, binds: { gui: "localhost" } });
    const ent = loadProfile("enterprise");
    expect(ent.frontends.count).toBeGreaterThan(1);
    expect(ent.monitoring).toBe(true);
    expect(ent.highAvailability).toBe(true);
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
});
