/** The benchmark memory diagnostic (core/memory-report.ts): off unless asked for; one parseable stderr line when on. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { installMemoryReport, MEMORY_LINE, memoryReport } from "../../core/memory-report.js";

afterEach(() => {
  process.removeAllListeners("SIGUSR2");
  vi.restoreAllMocks();
});

describe("memory report", () => {
  it("installs nothing unless MEGARAPTOR_DEBUG_MEMORY is set", () => {
    expect(installMemoryReport({})).toBe(false);
    expect(process.listenerCount("SIGUSR2")).toBe(0);
  });

  it("answers SIGUSR2 with one stderr line of heap and RSS figures", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(installMemoryReport({ MEGARAPTOR_DEBUG_MEMORY: "1" })).toBe(true);
    process.emit("SIGUSR2", "SIGUSR2");
    const line = String(write.mock.calls.at(-1)?.[0]);
    expect(line.startsWith(MEMORY_LINE) && line.endsWith("\n")).toBe(true);
    const r = JSON.parse(line.slice(MEMORY_LINE.length)) as ReturnType<typeof memoryReport>;
    expect(r.heapUsed).toBeGreaterThan(0);
    expect(r.rss).toBeGreaterThan(r.heapUsed);
    expect(r.gc).toBe(typeof (globalThis as { gc?: unknown }).gc === "function");
  });
});
