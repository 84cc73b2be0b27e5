/** Netstat's socket columns differ per artifact; every reader goes through socketEnd with the result's name. */
import { describe, expect, it } from "vitest";
import { socketColumns, socketEnd } from "../../../dfir/analysis/fields.js";
import { rowMessage } from "../../../dfir/analysis/timeline/timestamps.js";

describe("socketEnd", () => {
  it("reads each netstat artifact's own columns", () => {
    const want = { ip: "185.220.101.4", port: 443 };
    expect(socketEnd("Windows.Network.Netstat", { "Raddr.IP": "185.220.101.4", "Raddr.Port": 443 }, "remote")).toEqual(want);
    expect(socketEnd("Windows.Network.NetstatEnriched/Netstat", { Raddr: "185.220.101.4", Rport: 443 }, "remote")).toEqual(want);
    expect(socketEnd("MacOS.Network.Netstat", { Raddr: "185.220.101.4", Rport: 443 }, "remote")).toEqual(want);
    expect(socketEnd("Linux.Network.Netstat/TCP4", { RemoteAddr: "185.220.101.4", RemotePort: 443 }, "remote")).toEqual(want);
  });

  it("finds a result's columns by artifact when the source is not named, and none for other artifacts", () => {
    expect(socketColumns("Linux.Network.Netstat")?.remoteIp).toBe("RemoteAddr");
    expect(socketEnd("Windows.System.Pslist", { "Raddr.IP": "185.220.101.4" }, "remote")).toEqual({});
  });

  it("feeds timeline messages with the real states", () => {
    const win = { Pid: 5012, Name: "upd.exe", Status: "ESTAB", "Laddr.IP": "10.0.0.5", "Laddr.Port": 50122, "Raddr.IP": "185.220.101.4", "Raddr.Port": 443, Timestamp: "2026-11-20T08:14:09Z" };
    expect(rowMessage(win, "Windows.Network.Netstat")).toBe("upd.exe ESTAB 10.0.0.5:50122 → 185.220.101.4:443");
    const lin = { inode: "9", State: "Established", uid: "33", ProcessInfo: { Pid: 23044, Command: "kworker\n" }, LocalAddr: "10.30.0.10", LocalPort: 40022, RemoteAddr: "185.220.101.4", RemotePort: 4444 };
    expect(rowMessage(lin, "Linux.Network.Netstat/TCP4")).toBe("kworker Established 10.30.0.10:40022 → 185.220.101.4:4444");
  });
});
