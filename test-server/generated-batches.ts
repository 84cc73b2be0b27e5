/**
 * A generated result (fixture `{ generate: { rows, seed } }`) that is not in the result store, sent as the stored
 * path sends a file: batches of max_row rows whose Response is "[" + the rows' JSON joined by "," + "]" — the bytes of
 * JSON.stringify of the batch's row array, which the row-by-row path sends — with each row's JSON built as text
 * (model.ts generatedRowJson) and written straight into one reused block. The row-by-row path builds an object per
 * row, passes it through the evaluator's async generators and stringifies it: about 19 s of CPU per million rows,
 * more than the clients the benches measure.
 */
import { generatedRowJson } from "./model.js";
import type { StoredBatch } from "./result-store.js";

/**
 * Rows start … start+count-1 of the generated result (`total` rows from `seed`) in batches of at most `maxRow` rows.
 * Each batch's `json` is a view of a block the next batch overwrites (see StoredBatch).
 */
export function* generatedBatches(total: number, seed: number, start: number, count: number, maxRow: number): Generator<StoredBatch> {
  const first = Math.min(Math.max(0, start), total);
  const last = Math.min(total, first + Math.max(0, count));
  let block = Buffer.allocUnsafe(1 << 20);
  for (let from = first; from < last; from += maxRow) {
    const to = Math.min(last, from + maxRow);
    let pos = 0;
    block[pos++] = 0x5b; // [
    for (let i = from; i < to; i++) {
      const row = generatedRowJson(i, seed);
      // Rows are ASCII (model.ts checks the names), so a row's length is its byte length and Latin-1 its UTF-8.
      if (pos + row.length + 2 > block.length) {
        const bigger = Buffer.allocUnsafe(Math.max(block.length * 2, pos + row.length + 2));
        block.copy(bigger, 0, 0, pos);
        block = bigger;
      }
      if (i > from) block[pos++] = 0x2c; // ,
      pos += block.write(row, pos, "latin1");
    }
    block[pos++] = 0x5d; // ]
    yield { json: block.subarray(0, pos), rows: to - from };
  }
}
