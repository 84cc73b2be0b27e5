/**
 * The test host is what the SSH deployment is checked against, so first check the host itself: systemd manages
 * units over SSH on the loopback-published port, the container downloads from our HTTP helper and gets the bytes
 * we served, system users can be made, and nothing is left behind.
 */
import { randomBytes, createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sshExec, startTestHost } from "../helpers/host.js";
import { serveFile, type FileServer } from "../helpers/http-files.js";
import { execFileSync } from "node:child_process";

const host = await startTestHost();
if (!host.ok) console.warn(`test host suite skipped: ${host.reason}`);
else {
  console.warn(`test host: ${host.image}, docker run ${host.runFlags}, ssh on ${host.host}:${host.port}, systemd ${host.systemState}`);
  if (host.systemState === "degraded") console.warn(`test host degraded, failed units:\n${host.degradedUnits}`);
}

const dir = mkdtempSync(join(tmpdir(), "mr-host-"));
let files: FileServer | undefined;

afterAll(async () => {
  await files?.close();
  if (host.ok) await host.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!host.ok)(`a Debian host with systemd and sshd in Docker${host.ok ? "" : ` (skipped: ${host.reason})`}`, () => {
  // Narrowed once: inside this block the suite runs only when the host started.
  const h = host.ok ? host : (undefined as never);
  const ssh = (cmd: string) => sshExec(h, cmd);

  it("publishes SSH on loopback only", () => {
    const ports = execFileSync("docker", ["port", h.containerId], { encoding: "utf8" }).trim().split("\n");
    expect(ports).toEqual([`22/tcp -> 127.0.0.1:${h.port}`]);
  });

  it("runs systemd as PID 1 and lets root enable, start, stop and disable a unit over SSH", async () => {
    expect((await ssh("cat /proc/1/comm")).stdout.trim()).toBe("systemd");
    const unit = ["[Unit]", "Description=megaraptor test probe", "[Service]", "ExecStart=/bin/sleep infinity", "[Install]", "WantedBy=multi-user.target", ""].join("\n");
    const write = await ssh(`printf '%s' '${unit}' > /etc/systemd/system/mr-probe.service && systemctl daemon-reload && systemctl enable --now mr-probe.service`);
    expect(write.code, write.stderr).toBe(0);
    expect((await ssh("systemctl is-enabled mr-probe.service")).stdout.trim()).toBe("enabled");
    expect((await ssh("systemctl is-active mr-probe.service")).stdout.trim()).toBe("active");
    expect((await ssh("systemctl show -p MainPID --value mr-probe.service")).stdout.trim()).toMatch(/^[1-9]\d*$/);

    const stop = await ssh("systemctl disable --now mr-probe.service");
    expect(stop.code, stop.stderr).toBe(0);
    const after = await ssh("systemctl is-active mr-probe.service");
    expect(after.stdout.trim()).toBe("inactive");
    expect(after.code).not.toBe(0);
    expect((await ssh("systemctl is-enabled mr-probe.service")).stdout.trim()).toBe("disabled");
  });

  it("downloads a file from the HTTP helper over the bridge with curl, byte for byte", async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    const file = join(dir, "velociraptor-standin");
    writeFileSync(file, payload);
    files = await serveFile(file, { bind: h.gateway, allowFrom: [h.address] });
    expect(files.sha256).toBe(createHash("sha256").update(payload).digest("hex"));

    const got = await ssh(`curl -fsS -o /tmp/download ${files.url} && sha256sum /tmp/download`);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout.split(/\s+/)[0]).toBe(files.sha256);
    expect(files.requests).toEqual([{ remote: h.address, path: "/velociraptor-standin", status: 200 }]);
  });

  it("refuses the download to any address but the test host's", async () => {
    expect(files).toBeDefined();
    const res = await fetch(files!.url);
    expect(res.status).toBe(403);
    expect(files!.requests.at(-1)?.status).toBe(403);
  });

  it("creates a system user with useradd --system", async () => {
    const made = await ssh("useradd --system --no-create-home --shell /usr/sbin/nologin mr-probe-user && getent passwd mr-probe-user");
    expect(made.code, made.stderr).toBe(0);
    const [, , uid, , , , shell] = made.stdout.trim().split(":");
    // Debian's SYS_UID_MAX is 999: a system account sits below the first login user's uid.
    expect(Number(uid)).toBeLessThan(1000);
    expect(shell).toBe("/usr/sbin/nologin");
  });

  it("stop() removes the container", async () => {
    await h.stop();
    const left = execFileSync("docker", ["ps", "-aq", "--no-trunc", "--filter", `id=${h.containerId}`], { encoding: "utf8" }).trim();
    expect(left).toBe("");
  });
});
