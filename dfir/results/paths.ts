/**
 * Column paths into result rows. Velociraptor rows nest objects (Windows.System.Services' `CertinfoServiceExe.Trusted`,
 * Authenticode's `Authenticode.Trusted`, Pslist's `Hash.SHA256`), so a column may be a dotted path — the same rule
 * correlate uses: a key that exists as written wins (some columns contain dots), else the path is walked.
 */
import type { Row } from "../../velociraptor/client.js";

export function valueAt(row: Row, path: string): unknown {
  if (path in row) return row[path];
  return path.split(".").reduce<unknown>((v, p) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[p] : undefined), row);
}

/** Whether the row holds a value at `path` (a present null counts; an absent key does not). */
export function hasPath(row: Row, path: string): boolean {
  if (path in row) return true;
  const parts = path.split(".");
  let v: unknown = row;
  for (const p of parts) {
    if (!v || typeof v !== "object" || Array.isArray(v) || !(p in (v as Record<string, unknown>))) return false;
    v = (v as Record<string, unknown>)[p];
  }
  return true;
}
