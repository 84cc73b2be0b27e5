/**
 * Durable appends for the hash-chained logs (audit log, change ledgers): one writer at a time within the process
 * (the next entry's hash depends on the previous one), each line fsync'd before the append resolves.
 */
import { mkdirSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";

export class SerialAppender {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly path: string) {}

  /** Runs `make` (which may read the file) and appends the line it returns, strictly after earlier appends. */
  append<T>(make: () => { line: string; value: T }): Promise<T> {
    const run = async () => {
      const { line, value } = make();
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const fh = await open(this.path, "a", 0o600);
      try {
        await fh.appendFile(line.endsWith("\n") ? line : `${line}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return value;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
