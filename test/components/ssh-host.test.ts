/**
 * The SSH target's scripts on a real Debian host with systemd (test/helpers/host.ts): the same create scripts the
 * SshBinaryServer steps run, fed the same stdin, in the same order; re-run as pulumi-command's Update re-runs
 * `create` (remote/commandController.go @ v1.2.1); the host step's delete at the end. The velociraptor binary is a
 * shell stand-in that records who called it with what and refuses a config it cannot read, so what is checked is
 * the operating-system side: the service user can read its config (A5), the user bootstrap runs as that user before
 * the server on every start (A2), day-2 re-runs keep the server installed and running (A8), and destroy uninstalls.
 */
import { afterAll, describe, expect, it } from "vitest";
import { userBootstrapScript } from "../../components/common/users.js";
import { renderServerConfig } from "../../components/config/render.js";
import { generatePki } from "../../components/pki/provider.js";
import * as s from "../../components/ssh/scripts.js";
import { loadProfile } from "../../profiles/index.js";
import { startTestHost } from "../helpers/host.js";

const host = await startTestHost();
if (!host.ok) console.warn(`SSH target host suite skipped: ${host.reason}`);
afterAll(async () => {
  if (host.ok) await host.stop();
});

const DATASTORE = "/var/lib/velociraptor";
const LOG = `${DATASTORE}/stand-in.log`;

/**
 * A stand-in for the velociraptor binary (POSIX sh): logs "<user> <argv>", refuses an unreadable --config as
 * Velociraptor's loader would, keeps a user list, and for `frontend` stays up like the server.
 */
const STAND_IN = `#!/bin/sh
echo "$(id -un) $*" >> ${LOG}
[ "$1" = "--config" ] || { echo "no --config" >&2; exit 1; }
[ -r "$2" ] || { echo "Unable to load config file: open $2: permission denied" >&2; exit 1; }
shift 2
users=${DATASTORE}/stand-in.users
touch "$users"
case "$1 $2" in
  "config api_client") grep -qx "$4" "$users" || echo "$4" >> "$users" ;;
  "user show") grep -qx "$3" "$users" || exit 1 ;;
  "user add") echo "$3" >> "$users" ;;
  "acl grant") grep -qx "$3" "$users" || exit 1 ;;
  "frontend"*) exec sleep infinity ;;
  *) echo "unknown command $*" >&2; exit 1 ;;
esac
`;

describe.skipIf(!host.ok)(`SshBinaryServer scripts on a Debian host with systemd${host.ok ? "" : ` (skipped: ${host.reason})`}`, () => {
  const h = host.ok ? host : (undefined as never);
  const run = async (what: string, script: string, stdin?: string) => {
    const r = await h.exec(script, stdin);
    expect(r.code, `${what}: ${r.stderr}`).toBe(0);
    return r;
  };

  it("installs, runs the bootstrap as the service user before the server, survives re-runs, and uninstalls", async () => {
    const pki = await generatePki({ dnsNames: ["vr.lab"], ipAddresses: [], validityDays: 30, apiUsers: [{ name: "megaraptor", roles: ["api", "investigator"] }], rotation: 0, guiUsers: ["admin"] });
    const config = renderServerConfig({ profile: loadProfile("standard"), version: "0.77.2", hostname: "vr.lab", pki, datastorePath: DATASTORE });
    const users = userBootstrapScript({ binary: s.BIN, config: s.CONFIG, apiUsers: [{ name: "megaraptor", roles: ["api", "investigator"] }], guiUsers: [{ name: "admin", roles: ["administrator"], password: pki.guiPasswords!.admin! }], datastore: DATASTORE });
    // The binary step's create downloads; here the stand-in is installed the same way the copy step installs.
    const install = async () => {
      await run("host", s.prepareHostScript(DATASTORE));
      await run("binary", `cat > /tmp/vr && install -m 0755 /tmp/vr ${s.BIN} && rm -f /tmp/vr`, STAND_IN);
      await run("config", s.writeConfigScript(), config);
      await run("users", s.writeSecretFileScript(s.BOOTSTRAP), users);
      await run("service", s.installUnitScript(), s.systemdUnit(DATASTORE));
    };
    const active = async () => {
      for (let i = 0; i < 50; i++) {
        if ((await h.exec(`systemctl is-active ${s.SERVICE}`)).stdout.trim() === "active" && (await h.exec(`grep -c frontend ${LOG}`)).stdout.trim() !== "0") return true;
        await new Promise((r) => setTimeout(r, 200));
      }
      return false;
    };

    await install();
    expect(await active()).toBe(true);
    // A5: the service user reads its config through /etc/velociraptor (root:velociraptor 0750).
    expect((await h.exec(`runuser -u velociraptor -- test -r ${s.CONFIG}`)).code).toBe(0);
    expect((await h.exec("stat -c '%U:%G %a' /etc/velociraptor")).stdout.trim()).toBe("root:velociraptor 750");
    for (const f of [s.CONFIG, s.BOOTSTRAP]) expect((await h.exec(`stat -c '%U %a' ${f}`)).stdout.trim(), f).toBe("velociraptor 600");
    // A2: ExecStartPre ran the bootstrap as the service user, before the server.
    let log = (await h.exec(`cat ${LOG}`)).stdout.trim().split("\n");
    expect(log.every((l) => l.startsWith("velociraptor "))).toBe(true);
    const first = log.map((l) => l.split(" ").slice(3).join(" "));
    expect(first).toEqual([
      "config api_client --name megaraptor --role api,investigator /dev/null",
      "user show admin",
      `user add admin ${pki.guiPasswords!.admin} --role administrator`,
      "frontend",
    ]);

    // Day-2: the steps re-run (an Update re-runs create); the server is restarted, not removed.
    await install();
    expect(await active()).toBe(true);
    expect((await h.exec(`test -x ${s.BIN}`)).code).toBe(0);
    log = (await h.exec(`cat ${LOG}`)).stdout.trim().split("\n");
    expect(log.filter((l) => l.includes("user add"))).toHaveLength(1); // the GUI user exists: only its roles are reset
    expect(log.filter((l) => l.includes("acl grant admin --role administrator"))).toHaveLength(1);
    expect(log.filter((l) => l.endsWith(" frontend"))).toHaveLength(2);

    // Negative control: the layout cloud-init used to make (root:root 0750) leaves the service user locked out.
    await run("lock", "chown root:root /etc/velociraptor");
    expect((await h.exec(`runuser -u velociraptor -- test -r ${s.CONFIG}`)).code).not.toBe(0);
    await run("unlock", "chown root:velociraptor /etc/velociraptor");

    // Destroy: the host step's delete uninstalls and keeps the datastore.
    await run("uninstall", s.uninstallScript(DATASTORE, false));
    expect((await h.exec(`systemctl is-active ${s.SERVICE}`)).stdout.trim()).not.toBe("active");
    for (const f of [s.BIN, s.CONFIG, s.BOOTSTRAP, s.UNIT]) expect((await h.exec(`test -e ${f}`)).code, f).not.toBe(0);
    expect((await h.exec(`test -d ${DATASTORE}`)).code).toBe(0);
  }, 180_000);
});
