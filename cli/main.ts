#!/usr/bin/env node
/**
 * The `megaraptor` entry point. It sizes V8's heap for the subcommand first and only then loads the program: module
 * loading itself allocates enough to grow the heap, so the setting must precede every other import (heap-size.ts
 * says why `query` needs it).
 */
import { sizeHeapFor } from "./heap-size.js";

sizeHeapFor(process.argv.slice(2));
const { main } = await import("./program.js");
await main();
