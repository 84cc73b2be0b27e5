/** Netstat address columns across Velociraptor versions: dotted names, older flat names, nested objects. */
import { describe, expect, it } from "vitest";
import { socketEnd } from "../../../dfir/analysis/fields.js";
import { rowMessage } from "../../../dfir/analysis/timeline/timestamps.js";
import { notableReasons } from "../../../dfir/collection/triage.js";

describe("socketEnd", () => {
  it("reads the current, the older and the nested forms alike", () => {
    const want = { ip: "185.220.101.4", port: 443 };
    expect(socketEnd({ "Raddr.IP": "185.220.101.4", "Raddr.Port": 443 }, "Raddr")).toEqual(want);
    expect(socketEnd({ RaddrIP: "185.220.101.4", RaddrPort: "443" }, "Raddr")).toEqual(want);
    expect(socketEnd({ Raddr: { IP: "185.220.101.4", Port: 443 } }, "Raddr")).toEqual(want);
    expect(socketEnd({}, "Laddr")).toEqual({ ip: undefined, port: undefined });
  });

  it("feeds timeline messages and triage rules for the older flat columns too", () => {
    const old = { Pid: 5012, Name: "upd.exe", Status: "ESTABLISHED", LaddrIP: "10.0.0.5", LaddrPort: 50122, RaddrIP: "185.220.101.4", RaddrPort: 443, Timestamp: "2026-11-20T08:14:09Z" };
    expect(rowMessage(old, "Windows.Network.Netstat")).toBe("upd.exe ESTABLISHED 10.0.0.5:50122 → 185.220.101.4:443");
    expect(notableReasons("network", old)).toEqual(["connected to public address 185.220.101.4"]);
    expect(notableReasons("network", { Status: "LISTEN", LaddrIP: "0.0.0.0", LaddrPort: 4444 })).toEqual(["listening on uncommon port 4444"]);
  });
});
