/**
 * The column catalogue: for every artifact the project reads, recommends or ships in a fixture, the columns and
 * value forms Velociraptor v0.77.2 really produces, each fact read from the artifact's definition or the plugin it
 * calls (see docs/columns.md). Validated against ./schema.ts when loaded, so a malformed entry fails at once.
 */
import { CatalogueSchema, resultName, type ArtifactEntry, type Catalogue, type Column } from "./schema.js";
import { POSIX } from "./posix.js";
import { WINDOWS } from "./windows.js";

export const CATALOGUE: Catalogue = CatalogueSchema.parse({
  velociraptor: { repository: "Velocidex/velociraptor", tag: "v0.77.2", commit: "c0c9dd609140139efcb37c47e2afa79ed57e6c84" },
  conventions: [
    {
      fact: "Time values are written as RFC 3339 text in UTC (time.Time.MarshalJSON through the registered encoder), e.g. 2026-11-20T08:14:03Z, with fractional seconds only when not zero.",
      from: "utils/time.go:64-84",
    },
    {
      fact: "A subquery used as a column ({ SELECT ... } AS X) gives the bare value when it returns one row of one column, the row when one row of several, an array otherwise (null-like when empty).",
      from: "Velocidex/vfilter@26b8340c4bb8 (pinned by go.mod) vfilter.go:766-796",
    },
    {
      fact: "An unaliased expression keeps its text as the column name: SELECT Laddr.IP gives a column literally named \"Laddr.IP\".",
      from: "Velocidex/vfilter@26b8340c4bb8 vfilter.go:730-752",
    },
    { fact: "The =~ operator is case-insensitive: VQL regexes are compiled with (?i).", from: "Velocidex/vfilter@26b8340c4bb8 protocols/protocol_regex.go:86" },
    { fact: "Results of a named source are stored as Artifact/Source; an unnamed source's as Artifact.", from: "services/launcher/compiler.go:163-167" },
    { fact: "Rows read through a hunt (source(hunt_id=...), hunt_results()) gain FlowId, ClientId, _OrgId and Fqdn columns; a flow's own rows carry none of them.", from: "vql/server/hunts/hunts.go:295-298" },
  ],
  artifacts: [...WINDOWS, ...POSIX],
  absent: [
    { name: "Windows.KapeFiles.Targets", why: "not among artifacts/definitions at v0.77.2; the tree's offline-collector help names Windows.Triage.Targets instead (bin/offline.go:43)" },
    { name: "Generic.Forensic.SQLiteHunter", why: "not among artifacts/definitions at v0.77.2 (it is an exchange artifact that must be imported)" },
    { name: "MacOS.Sys.Pslist", why: "an alias declared by Linux.Sys.Pslist (artifacts/definitions/Linux/Sys/Pslist.yaml aliases), not a definition of its own" },
  ],
});

const byName = new Map<string, ArtifactEntry>(CATALOGUE.artifacts.map((a) => [a.name, a]));
const aliases = new Map<string, string>([["MacOS.Sys.Pslist", "Linux.Sys.Pslist"]]);

export function artifactEntry(name: string): ArtifactEntry | undefined {
  return byName.get(name) ?? byName.get(aliases.get(name) ?? "");
}

/** The columns of a result (`Artifact` or `Artifact/Source`), undefined when the catalogue does not record them. */
export function resultColumns(result: string): Column[] | undefined {
  const slash = result.indexOf("/");
  const artifact = slash < 0 ? result : result.slice(0, slash);
  const source = slash < 0 ? "" : result.slice(slash + 1);
  const entry = artifactEntry(artifact);
  if (!entry || entry.coverage !== "columns") return undefined;
  return entry.sources.find((s) => s.name === source)?.columns;
}

/** Every result name the catalogue records columns for. */
export function catalogueResults(): string[] {
  return CATALOGUE.artifacts.filter((a) => a.coverage === "columns").flatMap((a) => a.sources.map((s) => resultName(a.name, s.name)));
}

/**
 * The column a path names in a result: a flat column first (Velociraptor names may contain dots, "Laddr.IP"), then
 * a walk through nested fields ("Authenticode.Trusted").
 */
export function findColumn(result: string, path: string): Column | undefined {
  const cols = resultColumns(result);
  if (!cols) return undefined;
  const flat = cols.find((c) => c.name === path);
  if (flat) return flat;
  const walk = (list: Column[] | undefined, parts: string[]): Column | undefined => {
    if (!list || !parts.length) return undefined;
    for (let i = parts.length; i >= 1; i--) {
      const hit = list.find((c) => c.name === parts.slice(0, i).join("."));
      if (hit) return i === parts.length ? hit : walk(hit.fields, parts.slice(i));
    }
    return undefined;
  };
  return walk(cols, path.split("."));
}

/** Whether `value` is a form the column can hold: its closed set, its patterns, or (open columns) anything. */
export function allowsValue(column: Column, value: string): boolean {
  if (!column.values && !column.patterns) return true;
  if (column.values?.includes(value)) return true;
  return (column.patterns ?? []).some((p) => new RegExp(p).test(value));
}
