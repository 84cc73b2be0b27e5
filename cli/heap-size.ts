/**
 * For `megaraptor query`, keeps V8's heap small and flat, so peak memory does not depend on the result size.
 * Streaming JSON Lines allocates few JavaScript objects of its own, but grpc-js and HTTP/2 allocate a wrapper per
 * received chunk whose bytes live outside the heap until a scavenge frees them, and V8's defaults then
 * - double the young generation up to 2 × 16 MB: a 300,000-row query peaked at 111–113 MB RSS that way and at
 *   83–84 MB with the young generation held at its start-up size (semi_space_growth_factor 1), for the same CPU;
 * - let promoted garbage pile up in the old generation until it is a multiple of what is live: heapUsed rose
 *   14 → 28 MB over 1M rows and a 3M-row query peaked at 100 MB; with a 20 % growing factor between full GCs
 *   (heap_growing_percent 20) heapUsed stayed at 15–16 MB and RSS at 84–87 MB for the whole 1M rows.
 * (bench/pyvelociraptor.bench.ts measures 1M and 3M rows.) Both flags are read at every resize, so setting them at
 * run time works (the size flags are read only at start-up) — but it must happen before the first growth, which
 * loading the program's modules already causes: main.ts calls this before it imports anything else. Only `query` gets
 * them: `mcp` is a long-lived server whose allocation pattern a small heap would not suit.
 */
import { setFlagsFromString } from "node:v8";

/** `args`: the command line after the node binary and script (process.argv.slice(2)). */
export function sizeHeapFor(args: string[]): void {
  const subcommand = args.find((a) => !a.startsWith("-"));
  if (subcommand !== "query") return;
  setFlagsFromString("--semi-space-growth-factor=1");
  setFlagsFromString("--heap-growing-percent=20");
}
