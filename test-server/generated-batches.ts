/**
 * A generated result (fixture `{ generate: { rows, seed } }`) that is not in the result store, sent as the stored
 * path sends a file: batches of max_row rows whose Response is "[" + the rows' JSON joined by "," + "]" — the bytes of
 * JSON.stringify of the batch's row array, which the row-by-row path sends — with each row's JSON built as text
 * (model.ts generatedRowJson). The row-by-row path builds an object per row, passes it through the evaluator's async
 * generators and stringifies it: about 19 s of CPU per million rows, more than the clients the benches measure.
 */
import { generatedRowJson } from "./model.js";
import type { StoredBatch } from "./result-store.js";

/** Rows start … start+count-1 of the generated result (`total` rows from `seed`) in batches of at most `maxRow` rows. */
export function* generatedBatches(total: number, seed: number, start: number, count: number, maxRow: number): Generator<StoredBatch> {
  const first = Math.min(Math.max(0, start), total);
  const last = Math.min(total, first + Math.max(0, count));
  for (let from = first; from < last; from += maxRow) {
    const to = Math.min(last, from + maxRow);
    const rows = new Array<string>(to - from);
    for (let i = from; i < to; i++) rows[i - from] = generatedRowJson(i, seed);
    // One string, one UTF-8 encode: the rows are ASCII, so this is a straight copy.
    yield { json: Buffer.from(`[${rows.join(",")}]`), rows: to - from };
  }
}
