#!/usr/bin/env node
/**
 * The `megaraptor` entry point. It sizes V8's heap for the subcommand first and only then loads the program: module
 * loading itself allocates enough to grow the heap, so the setting must precede every other import (young-generation.ts
 * says why `query` needs it).
 */
import { sizeHeapFor } from "./young-generation.js";

sizeHeapFor(process.argv.slice(2));
const { main } = await import("./program.js");
await main();
