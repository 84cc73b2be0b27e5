/** Cross-cloud parity: compares what each provider's lifecycle observed; differences are the findings. */
export interface Observation {
  provider: string;
  serverVersion: string;
  /** Column names per API call (shapes). */
  shapes: Record<string, string[]>;
  artifacts: string[];
  /** Resources left with the run id after destroy. */
  leftovers: number;
  /** The small collection after enrolling a client (absent when no client could be enrolled). */
  enrolment?: { rows: number; columns: string[] };
}

export function compareParity(obs: Observation[]): { equal: boolean; differences: string[] } {
  const diffs: string[] = [];
  if (obs.length < 2) return { equal: true, differences: [] };
  const [base, ...rest] = obs;
  for (const o of rest) {
    if (o.serverVersion !== base!.serverVersion) diffs.push(`server_version: ${base!.provider}=${base!.serverVersion}, ${o.provider}=${o.serverVersion}`);
    for (const call of new Set([...Object.keys(base!.shapes), ...Object.keys(o.shapes)])) {
      const a = (base!.shapes[call] ?? []).join(",");
      const b = (o.shapes[call] ?? []).join(",");
      if (a !== b) diffs.push(`shape of ${call}: ${base!.provider}=[${a}], ${o.provider}=[${b}]`);
    }
    if (base!.enrolment && o.enrolment && base!.enrolment.columns.join(",") !== o.enrolment.columns.join(","))
      diffs.push(`shape of Generic.Client.Info: ${base!.provider}=[${base!.enrolment.columns.join(",")}], ${o.provider}=[${o.enrolment.columns.join(",")}]`);
    if (!!base!.enrolment !== !!o.enrolment) diffs.push(`client enrolment: ${base!.provider}=${base!.enrolment ? "yes" : "no"}, ${o.provider}=${o.enrolment ? "yes" : "no"}`);
    const missing = base!.artifacts.filter((x) => !o.artifacts.includes(x));
    const extra = o.artifacts.filter((x) => !base!.artifacts.includes(x));
    if (missing.length) diffs.push(`artifacts missing on ${o.provider}: ${missing.join(", ")}`);
    if (extra.length) diffs.push(`artifacts only on ${o.provider}: ${extra.join(", ")}`);
  }
  for (const o of obs) if (o.leftovers > 0) diffs.push(`cleanup: ${o.leftovers} resource(s) left on ${o.provider}`);
  return { equal: diffs.length === 0, differences: diffs };
}
