/**
 * The test server's data: a JSON fixture validated by this schema (documented in docs/test-server.md).
 * Row arrays may be replaced by `{ generate: { rows, seed } }` so large results cost no memory.
 */
import { z } from "zod";
import { EndpointSchema } from "./endpoint.js";

export const GeneratedRowsSchema = z.object({
  generate: z.object({ rows: z.number().int().nonnegative(), seed: z.number().int().default(1), kind: z.enum(["process"]).default("process") }),
});
export const RowsSchema = z.union([z.array(z.record(z.string(), z.unknown())), GeneratedRowsSchema]);

export const UserSchema = z.object({
  name: z.string(),
  /** Roles per org id; `root` is the default org. */
  roles: z.record(z.string(), z.array(z.string())),
});

export const ClientSchema = z.object({
  client_id: z.string().regex(/^C\.[0-9a-f]{16}$/),
  os_info: z.object({
    system: z.enum(["windows", "linux", "darwin"]),
    hostname: z.string(),
    fqdn: z.string(),
    release: z.string(),
    machine: z.string().default("x86_64"),
    mac_addresses: z.array(z.string()).default([]),
  }),
  agent_information: z.object({ version: z.string(), name: z.string().default("velociraptor") }).default({ version: "0.77.2", name: "velociraptor" }),
  labels: z.array(z.string()).default([]),
  first_seen_at: z.number(),
  /** µs since epoch; negative numbers mean "this many seconds before the server started". */
  last_seen_at: z.number(),
  last_ip: z.string(),
  /** State the shipped remediation artifacts act on (files, processes, registry, services, tasks, cron, units). */
  endpoint: EndpointSchema.optional(),
});

export const ArtifactSchema = z.object({
  name: z.string(),
  type: z.enum(["client", "server", "client_event", "server_event", "notebook"]).default("client"),
  description: z.string().default(""),
  author: z.string().optional(),
  precondition: z.string().optional(),
  required_permissions: z.array(z.string()).default([]),
  parameters: z.array(z.object({ name: z.string(), default: z.string().default(""), type: z.string().default(""), description: z.string().default("") })).default([]),
  sources: z.array(z.object({ name: z.string().default(""), query: z.string().default("") })).default([{ name: "", query: "" }]),
  /** Make collections of this artifact fail on these OSes, logging `message` (to test error paths). */
  failure: z.object({ os: z.array(z.string()), message: z.string() }).optional(),
  /** Result rows a collection produces, per OS (`any` for all), per source name ("" for single-source). */
  samples: z.record(z.string(), z.record(z.string(), z.array(z.record(z.string(), z.unknown())))).default({}),
});

export const UploadSchema = z.object({
  name: z.string(),
  components: z.array(z.string()),
  content: z.string().optional(),
  /** Deterministic generated content of this many bytes (for large downloads without large fixtures). */
  size: z.number().int().nonnegative().optional(),
});

export const FlowSchema = z.object({
  client_id: z.string(),
  session_id: z.string().regex(/^F\.[A-Z0-9]+$/),
  artifacts: z.array(z.string()),
  state: z.enum(["RUNNING", "WAITING", "IN_PROGRESS", "UNRESPONSIVE", "FINISHED", "ERROR"]).default("FINISHED"),
  create_time: z.number(),
  creator: z.string().default("admin"),
  /** Keyed by `Artifact` or `Artifact/Source`. */
  results: z.record(z.string(), RowsSchema).default({}),
  logs: z.array(z.object({ level: z.string().default("INFO"), message: z.string() })).default([]),
  uploads: z.array(UploadSchema).default([]),
  status: z.string().default(""),
});

export const HuntSchema = z.object({
  hunt_id: z.string().regex(/^H\.[A-Z0-9]+$/),
  hunt_description: z.string().default(""),
  state: z.enum(["UNSET", "PAUSED", "RUNNING", "STOPPED", "ARCHIVED", "DELETED"]),
  artifacts: z.array(z.string()),
  create_time: z.number(),
  creator: z.string().default("admin"),
  expires: z.number(),
  include_labels: z.array(z.string()).default([]),
  tags: z.array(z.string()).default([]),
  /** Flows belonging to the hunt (their results are the hunt's results). */
  flows: z.array(z.object({ client_id: z.string(), flow_id: z.string() })).default([]),
});

export const OrgSchema = z.object({
  id: z.string(),
  name: z.string(),
  clients: z.array(ClientSchema).default([]),
  flows: z.array(FlowSchema).default([]),
  hunts: z.array(HuntSchema).default([]),
});

export const FixtureSchema = z.object({
  server: z.object({ version: z.string().default("0.77.2"), hostname: z.string().default("velociraptor-test") }).default({ version: "0.77.2", hostname: "velociraptor-test" }),
  users: z.array(UserSchema),
  artifacts: z.array(ArtifactSchema),
  orgs: z.array(OrgSchema).min(1),
});

export type Fixture = z.infer<typeof FixtureSchema>;
export type FixtureInput = z.input<typeof FixtureSchema>;
export type FixtureClient = z.infer<typeof ClientSchema>;
export type FixtureArtifact = z.infer<typeof ArtifactSchema>;
export type FixtureFlow = z.infer<typeof FlowSchema>;
export type FixtureHunt = z.infer<typeof HuntSchema>;
export type FixtureRows = z.infer<typeof RowsSchema>;
