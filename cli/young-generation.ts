/**
 * For `megaraptor query`, keeps V8's young generation at its start-up size. Streaming JSON Lines allocates few
 * JavaScript objects of its own, but grpc-js and HTTP/2 allocate a wrapper per received chunk whose bytes live outside
 * the heap until a scavenge frees them; V8 meanwhile doubles the young generation up to 2 × 16 MB. A 300,000-row query
 * peaked at 111–113 MB RSS that way and at 83–84 MB with the young generation held, for the same CPU
 * (bench/pyvelociraptor.bench.ts measures 1M and 3M rows).
 *
 * semi_space_growth_factor is read at every resize, so setting it at run time works (the size flags are read only at
 * start-up) — but it must happen before the first growth, which loading the program's modules already causes: main.ts
 * calls this before it imports anything else. Only `query` gets it: `mcp` is a long-lived server whose allocation
 * pattern a small young generation would not suit.
 */
import { setFlagsFromString } from "node:v8";

/** `args`: the command line after the node binary and script (process.argv.slice(2)). */
export function sizeHeapFor(args: string[]): void {
  const subcommand = args.find((a) => !a.startsWith("-"));
  if (subcommand === "query") setFlagsFromString("--semi-space-growth-factor=1");
}
