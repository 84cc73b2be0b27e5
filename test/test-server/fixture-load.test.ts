/**
 * The fixture loader (issue 16): schema errors as `path: problem` lines, no stack trace and nothing of the file
 * echoed; references checked (flows on unknown clients, hunts pointing at missing flows, unknown artifacts — names
 * checked against the project's built-in list, velociraptor/known-artifacts.ts); the shipped fixtures load clean.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../core/paths.js";
import { FixtureError, loadFixtureFile } from "../../test-server/fixture-load.js";

const dir = mkdtempSync(join(tmpdir(), "mr-fixture-"));
const shipped = (name: string) => JSON.parse(readFileSync(join(packageRoot(), "test", "fixtures", name), "utf8")) as Record<string, any>;
function write(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
  return p;
}
function problems(path: string): string[] {
  try {
    loadFixtureFile(path);
  } catch (err) {
    expect(err).toBeInstanceOf(FixtureError);
    return (err as FixtureError).problems;
  }
  throw new Error(`${path} loaded`);
}

describe("fixture loader", () => {
  it.each(["default.json", "incident.json"])("loads the shipped %s with no problem", (name) => {
    expect(() => loadFixtureFile(join(packageRoot(), "test", "fixtures", name))).not.toThrow();
  });

  it("reports schema errors as path: problem lines without the values", () => {
    const f = shipped("default.json");
    f.orgs[0].clients[0].client_id = "C.SECRET-not-an-id";
    f.orgs[0].flows[1].session_id = 42;
    const lines = problems(write("schema.json", f));
    expect(lines).toEqual([expect.stringMatching(/^orgs\[0\]\.clients\[0\]\.client_id: /), expect.stringMatching(/^orgs\[0\]\.flows\[1\]\.session_id: /)]);
    expect(lines.join("\n")).not.toContain("SECRET");
  });

  it("says where invalid JSON is, without quoting it", () => {
    const lines = problems(write("broken.json", '{\n  "users": [],\n  "artifacts": [ SECRET-TEXT ]\n}'));
    // Node names the line in some versions and only quotes the text in others: the line when known, never the text.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\(file\): not valid JSON( \(line 3\))?$/);
  });

  it("checks references: unknown clients, missing hunt flows, unknown and undefined artifacts", () => {
    const f = shipped("default.json");
    const org = f.orgs[0];
    org.flows.push({ client_id: "C.00000000000000ff", session_id: "F.ORPHAN1", artifacts: ["Windows.System.Pslist"], create_time: 1 });
    org.flows.push({ client_id: org.clients[0].client_id, session_id: "F.UNDEFINED1", artifacts: ["Windows.Forensics.SRUM"], create_time: 1 });
    org.hunts.push({ hunt_id: "H.MISSING1", state: "STOPPED", artifacts: ["Windows.System.Pslist"], create_time: 1, expires: 2, flows: [{ client_id: org.clients[0].client_id, flow_id: "F.NOPE" }] });
    f.artifacts.push({ name: "Windows.Made.Up", sources: [{ name: "", query: "" }] });
    const lines = problems(write("refs.json", f));
    const n = org.flows.length;
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^artifacts\[\d+\]\.name: unknown artifact "Windows\.Made\.Up"/),
        `orgs[0].flows[${n - 2}].client_id: no client C.00000000000000ff in org "${org.id}"`,
        `orgs[0].flows[${n - 1}].artifacts[0]: unknown artifact "Windows.Forensics.SRUM" — define it in artifacts[]`,
        `orgs[0].hunts[${org.hunts.length - 1}].flows[0]: no flow F.NOPE on ${org.clients[0].client_id} in org "${org.id}"`,
      ]),
    );
    expect(lines).toHaveLength(4);
  });

  it("the test-server command prints the lines and exits 2, with no stack trace", () => {
    const f = shipped("default.json");
    f.orgs[0].hunts.push({ hunt_id: "H.MISSING2", state: "STOPPED", artifacts: ["Windows.System.Pslist"], create_time: 1, expires: 2, flows: [{ client_id: "C.1a2b3c4d5e6f7a01", flow_id: "F.GONE" }] });
    const r = spawnSync(process.execPath, ["--import", "tsx", join(packageRoot(), "test-server", "cli.ts"), "--fixture", write("cli.json", f), "--port", "0", "--out-dir", join(dir, "out")], { cwd: packageRoot(), encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/orgs\[0\]\.hunts\[\d+\]\.flows\[0\]: no flow F\.GONE on C\.1a2b3c4d5e6f7a01/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);
});
