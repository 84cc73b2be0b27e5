/** Correlation: the client × indicator matrix and shared-value pivots. */
import { describe, expect, it } from "vitest";
import { containsToken, correlateIndicators, sharedValues } from "../../../dfir/analysis/correlate.js";

// Hunt rows carry ClientId (vql/server/hunts/hunts.go:295-298); columns as Windows.System.Pslist and Netstat emit them.
const hunt = [
  { ClientId: "C.1", Name: "upd.exe", Pid: 10, Ppid: 5, Hash: { SHA256: "aa11" }, CommandLine: "upd.exe --c2 185.220.101.4", CreateTime: "2026-11-20T08:14:03Z" },
  { ClientId: "C.1", Name: "powershell.exe", Pid: 5, Ppid: 1, Hash: { SHA256: "bb22" }, CreateTime: "2026-11-20T08:13:55Z" },
  { ClientId: "C.2", Name: "upd.exe", Pid: 77, Ppid: 12, Hash: { SHA256: "aa11" }, CommandLine: "upd.exe --c2 185.220.101.4", CreateTime: "2026-11-21T10:02:11Z" },
  { ClientId: "C.2", Name: "svchost.exe", Pid: 12, Ppid: 1, Hash: { SHA256: "cc33" }, CreateTime: "2026-11-18T07:00:09Z" },
  { ClientId: "C.3", Name: "svchost.exe", Pid: 12, Ppid: 1, Hash: { SHA256: "cc33" }, CreateTime: "2026-11-18T07:00:09Z" },
];
const netstat = [
  { ClientId: "C.1", Pid: 10, Name: "upd.exe", Status: "ESTAB", "Laddr.IP": "10.0.0.5", "Laddr.Port": 50122, "Raddr.IP": "185.220.101.4", "Raddr.Port": 443, Timestamp: "2026-11-20T08:14:09Z" },
  { ClientId: "C.2", Pid: 77, Name: "upd.exe", Status: "ESTAB", "Laddr.IP": "10.0.0.6", "Laddr.Port": 50122, "Raddr.IP": "185.220.101.4", "Raddr.Port": 443, Timestamp: "2026-11-21T10:02:15Z" },
  { ClientId: "C.3", Pid: 4, Name: "System", Status: "LISTEN", "Laddr.IP": "0.0.0.0", "Laddr.Port": 445, "Raddr.IP": "0.0.0.0", "Raddr.Port": 0, Timestamp: "2026-11-18T07:00:00Z" },
];

describe("correlate", () => {
  it("matches whole tokens only: no address inside a longer number, no hash inside a longer hash", () => {
    expect(containsToken("ip=1.2.3.4, port 80", "1.2.3.4")).toBe(true);
    expect(containsToken("11.2.3.45", "1.2.3.4")).toBe(false);
    expect(containsToken("10.1.2.3.4", "1.2.3.4")).toBe(false);
    expect(containsToken("via 1.2.3.4.", "1.2.3.4")).toBe(true);
    expect(containsToken("aa11bb", "11")).toBe(false);
    expect(containsToken("c:\\temp\\upd.exe ran", "upd.exe")).toBe(true);
    expect(containsToken("x 1.2.3.4x 1.2.3.4", "1.2.3.4")).toBe(true);
  });

  it("builds the client × indicator matrix with counts, first-seen and artifacts", async () => {
    const m = await correlateIndicators([{ artifact: "Windows.System.Pslist", rows: hunt }], ["185.220.101.4", "AA11", "never-seen.com"]);
    expect(m.clients).toEqual(["C.1", "C.2"]);
    expect(m.cells.map((c) => [c.indicator, c.client_id, c.count, c.first_seen])).toEqual([
      ["185.220.101.4", "C.1", 1, "2026-11-20T08:14:03.000Z"],
      ["185.220.101.4", "C.2", 1, "2026-11-21T10:02:11.000Z"],
      ["AA11", "C.1", 1, "2026-11-20T08:14:03.000Z"],
      ["AA11", "C.2", 1, "2026-11-21T10:02:11.000Z"],
    ]);
    expect(m.by_indicator).toEqual([{ indicator: "185.220.101.4", clients: 2 }, { indicator: "AA11", clients: 2 }, { indicator: "never-seen.com", clients: 0 }]);
  });

  it("finds shared process hashes, remote addresses and parent → child pairs, rarest first", async () => {
    const src = () => [
      { artifact: "Windows.System.Pslist", rows: hunt },
      { artifact: "Windows.Network.Netstat", rows: netstat },
    ];
    expect((await sharedValues(src(), "process_hash")).map((s) => [s.value, s.client_count])).toEqual([["bb22", 1], ["aa11", 2], ["cc33", 2]]);
    // Listening sockets (0.0.0.0) have no peer; process listings have no remote address column.
    expect((await sharedValues(src(), "remote_ip")).map((s) => [s.value, s.clients])).toEqual([["185.220.101.4", ["C.1", "C.2"]]]);
    // C.2's upd.exe has ppid 12 = svchost.exe on C.2; C.1's has ppid 5 = powershell.exe. PIDs never cross clients.
    expect((await sharedValues(src(), "parent_child")).map((s) => [s.value, s.clients])).toEqual([
      ["powershell.exe → upd.exe", ["C.1"]],
      ["svchost.exe → upd.exe", ["C.2"]],
    ]);
    expect((await sharedValues([{ artifact: "Windows.System.Pslist", rows: hunt }], "column", "Name")).at(-1)).toMatchObject({ value: "upd.exe", client_count: 2 });
  });
});
