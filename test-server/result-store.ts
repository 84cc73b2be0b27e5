/**
 * Generated flow results kept as JSON Lines files, the way Velociraptor keeps a finished flow's results: its result
 * set writer appends each row's JSON and "\n" to the flow's JSONL file plus a uint64 offset per row to an index file
 * (Velocidex/velociraptor result_sets/simple/simple.go, ResultSetWriterImpl.Flush), and a reader seeks by that
 * index (SeekToRow) and reads the rows line by line (Rows). Velociraptor then decodes each line and the API encodes
 * the batch again; this stand-in skips that round trip and sends the stored bytes: each line is exactly
 * JSON.stringify of the generated row, and a batch's Response is "[" + its lines joined by "," + "]" — the same bytes
 * as JSON.stringify of the batch's row array, which the row-by-row path sends. Regenerating and serialising a
 * million generated rows per query made the test server, not the client, the bound of the timeline bench.
 *
 * Results are stored only when asked (TestServer#storeResults): tests that read generated flows once pay nothing.
 * Files live in a private temporary folder removed by dispose(); memory is one offset per row and one read block.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Stored {
  path: string;
  /** Byte offset of every row's line. */
  offsets: Float64Array;
  bytes: number;
  columns: string[];
}

/**
 * One batch of rows: the Response (a JSON array, UTF-8 bytes) and how many rows it holds. `json` is a view of a block
 * the producer reuses for the next batch: encode it (the server does, at once) before asking for the next one.
 */
export interface StoredBatch {
  json: Buffer;
  rows: number;
}

const NL = 0x0a;
const BLOCK = 1 << 20;

export class ResultStore {
  private dir: string | undefined;
  /** Keyed by the flow's result entry itself: a flow whose results are replaced (a failed collection) is not served. */
  private readonly sets = new Map<object, Stored>();
  /** Rows sent from the files so far (tests check that the stored path served a query). */
  served = 0;

  has(key: object): boolean {
    return this.sets.has(key);
  }

  /**
   * Writes `lines` (each a row's JSON, as JSON.stringify writes it) as the JSON Lines file of `key`, whose rows have
   * `columns` as keys (once; a second call keeps the first).
   */
  async store(key: object, lines: Iterable<string>, columns: readonly string[]): Promise<void> {
    if (this.sets.has(key)) return;
    this.dir ??= mkdtempSync(join(tmpdir(), "megaraptor-test-results-"));
    const path = join(this.dir, `${this.sets.size}.jsonl`);
    const fh = await open(path, "wx", 0o600);
    const offsets: number[] = [];
    let bytes = 0;
    try {
      // Each line goes into the block as it comes: a line string dies young, instead of a megabyte of them surviving
      // into the old generation for a join, garbage a full GC collects later — inside the timed run of a bench.
      let block = Buffer.allocUnsafe(BLOCK);
      let used = 0;
      for (const line of lines) {
        offsets.push(bytes);
        // Byte length, not string length: offsets index the UTF-8 file.
        const len = Buffer.byteLength(line);
        if (used + len + 1 > block.length) {
          if (used) await fh.write(block, 0, used);
          used = 0;
          if (len + 1 > block.length) block = Buffer.allocUnsafe(len + 1);
        }
        used += block.write(line, used, len, "utf8");
        block[used++] = NL;
        bytes += len + 1;
      }
      if (used) await fh.write(block, 0, used);
    } finally {
      await fh.close();
    }
    this.sets.set(key, { path, offsets: Float64Array.from(offsets), bytes, columns: offsets.length ? [...columns] : [] });
  }

  /** The columns of a stored result (the first row's keys, as the row-by-row path reports them). */
  columns(key: object): string[] {
    return this.sets.get(key)?.columns ?? [];
  }

  /** Rows start … start+count-1 of `key` in batches of at most `maxRow` rows. */
  async *batches(key: object, start: number, count: number, maxRow: number, signal: AbortSignal): AsyncGenerator<StoredBatch> {
    const set = this.sets.get(key)!;
    const first = Math.min(Math.max(0, start), set.offsets.length);
    const last = Math.min(set.offsets.length, first + Math.max(0, count));
    if (first >= last) return;
    const endByte = last < set.offsets.length ? set.offsets[last]! : set.bytes;
    const fh = await open(set.path, "r");
    try {
      let pos = set.offsets[first]!;
      let buf = Buffer.allocUnsafe(BLOCK);
      let out = Buffer.allocUnsafe(BLOCK + 2);
      let have = 0;
      while (pos < endByte || have) {
        if (signal.aborted) return;
        const want = Math.min(buf.length - have, endByte - pos);
        if (want > 0) {
          const { bytesRead } = await fh.read(buf, have, want, pos);
          pos += bytesRead;
          have += bytesRead;
        }
        // Whole lines in the block, at most maxRow of them.
        let end = 0;
        let rows = 0;
        const commas: number[] = [];
        while (rows < maxRow) {
          const nl = buf.indexOf(NL, end);
          if (nl < 0 || nl >= have) break;
          commas.push(nl);
          end = nl + 1;
          rows++;
        }
        if (!rows) {
          // A line longer than the block: grow it.
          const next = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(next, 0, 0, have);
          buf = next;
          continue;
        }
        if (out.length < end + 1) out = Buffer.allocUnsafe(buf.length + 2);
        out[0] = 0x5b; // [
        buf.copy(out, 1, 0, end);
        for (let i = 0; i < commas.length - 1; i++) out[commas[i]! + 1] = 0x2c; // the "\n" between two rows → ","
        out[end] = 0x5d; // the last "\n" → ]
        buf.copyWithin(0, end, have);
        have -= end;
        this.served += rows;
        // Bytes, not a string: the VQLResponse encoder copies them into the message as they are.
        yield { json: out.subarray(0, end + 1), rows };
      }
    } finally {
      await fh.close();
    }
  }

  dispose(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.sets.clear();
  }
}
