/** The deploy-target registry is where the settings schema, the deploy tools and the stack examples find targets. */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DeployRequestSchema, DeploymentSettingsSchema, parseDeploymentSettings } from "../../deploy/request/index.js";
import { TARGET_LIST, TARGET_NAMES, targetOf } from "../../deploy/targets/index.js";
import { deployServer } from "../../mcp/tools/deploy/index.js";

describe("deploy-target registry", () => {
  it("gives every target its section in the stored settings and in deploy_server's arguments, and an example stack", () => {
    expect(new Set(TARGET_NAMES).size, "target names are unique").toBe(TARGET_LIST.length);
    expect(deployServer.input.shape.target.unwrap().options).toEqual(TARGET_NAMES);
    for (const t of TARGET_LIST) {
      expect(Object.keys(DeploymentSettingsSchema.shape), t.name).toContain(t.name);
      expect(Object.keys(DeployRequestSchema.shape), t.name).toContain(t.name);
      expect(existsSync(`Pulumi.${t.example}.yaml`), t.example).toBe(true);
    }
  });

  it("requires a section only where the target cannot work from defaults", () => {
    const base = { deployment_id: "reg-x", hostname: "h" };
    for (const t of TARGET_LIST) {
      const r = () => parseDeploymentSettings({ ...base, target: t.name });
      if (t.sectionRequired) expect(r, t.name).toThrow(new RegExp(`^${t.name}: target ${t.name} needs`));
      else expect(r(), t.name).toMatchObject({ target: t.name });
    }
  });

  it("refuses an unknown target by name with the known ones", () => {
    expect(() => targetOf("proxmox")).toThrow(/no deploy target "proxmox"/);
    expect(() => parseDeploymentSettings({ deployment_id: "reg-y", hostname: "h", target: "proxmox" })).toThrow(/^target:/);
  });
});
