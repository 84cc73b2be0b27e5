/**
 * `megaraptor iocs` promises flat memory on multi-gigabyte logs. V8 keeps a substring as a slice of its parent, so an
 * aggregator that stored the extracted value as found kept every chunk with a new indicator alive (200 chunks of
 * ~2 MB: 436 MB after GC). Kept values must be copies.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { expect, it } from "vitest";
import { IocAggregator } from "../../../dfir/analysis/iocs/aggregate.js";
import { AllowMatcher, DEFAULT_ALLOW } from "../../../dfir/analysis/iocs/allowlist.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

it("keeps no scanned chunk alive through the indicators (kept, suppressed or judged) it found in it", () => {
  const agg = new IocAggregator(new AllowMatcher(DEFAULT_ALLOW));
  gc();
  const before = process.memoryUsage().heapUsed;
  const CHUNKS = 100;
  for (let i = 0; i < CHUNKS; i++) {
    // ~1.1 MB of text per chunk, each with a new domain, a new public and a new private (suppressed) address.
    const filler = `chunk ${i} routine service log line with nothing of interest in it `.repeat(8_000);
    agg.addText(`${filler} evil${i}.example-bad.biz 45.77.${i}.9 10.0.${i}.1 ${filler}`, { artifact: "log" });
  }
  gc();
  const growth = process.memoryUsage().heapUsed - before;
  expect(agg.results().map((r) => r.value)).toContain(`evil${CHUNKS - 1}.example-bad.biz`);
  expect(agg.suppressed.get("non-public address")).toBe(CHUNKS);
  // Holding the chunks would be ~110 MB; the indicators themselves are a few kilobytes.
  expect(growth).toBeLessThan(20e6);
});
