/**
 * The shape of the column catalogue (./catalogue.ts): what Velociraptor's artifacts really emit, column by column,
 * with where each fact was read. Rules, timeline fields, correlation keys, stacking defaults and the shipped test
 * fixtures are checked against it, so a column or value Velociraptor never produces fails a test instead of
 * silently matching nothing.
 */
import { z } from "zod";

/**
 * How a value appears in a result row as JSON. `timestamp` is Velociraptor's time.Time encoding: RFC 3339 text in
 * UTC (`2026-11-20T08:14:03Z`, fractional seconds when not zero); `timestamps` an array of them. Numbers that PIDs,
 * ports and sizes are written as are `integer`.
 */
export const VALUE_TYPES = ["string", "integer", "number", "boolean", "timestamp", "timestamps", "strings", "object", "array", "any"] as const;
export const ValueTypeSchema = z.enum(VALUE_TYPES);
export type ValueType = z.infer<typeof ValueTypeSchema>;

export const ColumnSchema = z
  .object({
    name: z.string().min(1),
    type: ValueTypeSchema,
    /** Every value the column can hold, when the set is closed (netstat's Status, authenticode's Trusted). */
    values: z.array(z.string()).optional(),
    /** Regular expressions for open value forms beyond `values` (e.g. `^untrusted \(.+\)$`). */
    patterns: z.array(z.string()).optional(),
    /** The column may be null (a lookup that found nothing, an option left off). */
    nullable: z.boolean().default(false),
    /** When the column is filled at all: a parameter setting or an OS. */
    when: z.string().optional(),
    example: z.unknown().optional(),
    note: z.string().optional(),
    /** Where the fact was read when it is not the artifact's own definition: a plugin file and line at the tag. */
    from: z.string().optional(),
    /** `fields` lists only the keys the project relies on; the object may hold others. */
    openFields: z.boolean().default(false),
    /** The keys of a nested object (`Authenticode.Trusted`, `Hash.SHA256`); complete unless `openFields`. */
    get fields() {
      return z.array(ColumnSchema).optional();
    },
  })
  .strict();
export type Column = z.infer<typeof ColumnSchema>;
/** A column as written in the catalogue (defaults not yet applied). */
export type ColumnInput = z.input<typeof ColumnSchema>;

export const SourceSchema = z
  .object({
    /** The source's name; "" for an unnamed source (its results are named after the artifact alone). */
    name: z.string(),
    columns: z.array(ColumnSchema),
    note: z.string().optional(),
  })
  .strict();

export const ArtifactEntrySchema = z
  .object({
    name: z.string().regex(/^[A-Z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$/),
    type: z.enum(["CLIENT", "CLIENT_EVENT", "SERVER", "SERVER_EVENT"]).default("CLIENT"),
    os: z.array(z.enum(["windows", "linux", "darwin"])),
    /** Parameter names the definition declares (what a template or collect call may set). */
    parameters: z.array(z.string()),
    /**
     * `columns`: every source's columns are recorded (the artifact is read by analysis code or shipped in a
     * fixture). `parameters`: only the name and parameters are vouched for (the artifact is only recommended).
     */
    coverage: z.enum(["columns", "parameters"]),
    sources: z.array(SourceSchema),
    note: z.string().optional(),
  })
  .strict()
  .refine((a) => a.coverage === "parameters" || a.sources.length > 0, { message: "an artifact with column coverage needs its sources" });
export type ArtifactEntry = z.infer<typeof ArtifactEntrySchema>;

export const CatalogueSchema = z
  .object({
    velociraptor: z.object({ repository: z.string(), tag: z.string(), commit: z.string().regex(/^[0-9a-f]{40}$/) }).strict(),
    /** Facts that hold for every artifact (JSON time encoding, subquery unwrapping, regex case). */
    conventions: z.array(z.object({ fact: z.string(), from: z.string() }).strict()),
    artifacts: z.array(ArtifactEntrySchema),
    /** Names the project used that are not artifacts at the tag, and why. */
    absent: z.array(z.object({ name: z.string(), why: z.string() }).strict()),
  })
  .strict();
export type Catalogue = z.infer<typeof CatalogueSchema>;

/** The definition file an artifact name maps to in the Velociraptor repository. */
export function definitionPath(artifact: string): string {
  return `artifacts/definitions/${artifact.replace(/\./g, "/")}.yaml`;
}

/** The name results are stored under: `Artifact` for an unnamed source, `Artifact/Source` otherwise. */
export function resultName(artifact: string, source: string): string {
  return source ? `${artifact}/${source}` : artifact;
}
