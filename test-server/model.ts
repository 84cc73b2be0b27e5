/**
 * The test server's mutable state, loaded from a fixture. Tools change it through VQL (label, collect_client, hunt,
 * hunt_update, hunt_delete, cancel_flow) and later queries see the change, as on a real server.
 */
import type { UserStore } from "./user-store.js";
import { ResultStore } from "./result-store.js";
import { loadFixtureFile, parseFixture } from "./fixture-load.js";
import { type Fixture, type FixtureArtifact, type FixtureClient, type FixtureFlow, type FixtureHunt, type FixtureInput, type FixtureRows } from "./fixture-schema.js";

export type Row = Record<string, unknown>;


export interface OrgState {
  id: string;
  name: string;
  clients: Map<string, FixtureClient>;
  flows: Map<string, FixtureFlow & { results: Record<string, FixtureRows> }>;
  hunts: Map<string, FixtureHunt>;
}

function idSuffix(n: number): string {
  return n.toString(36).toUpperCase().padStart(8, "0");
}

export class Model {
  readonly fixture: Fixture;
  readonly startedUs = Date.now() * 1000;
  readonly orgs = new Map<string, OrgState>();
  readonly artifacts = new Map<string, FixtureArtifact>();
  private counter = Math.floor(Math.random() * 1e6);
  /** Filestore entries created at run time (flow downloads), keyed by joined components. */
  readonly downloads = new Map<string, Buffer>();
  /** Milliseconds a new collection stays RUNNING before it finishes. */
  flowCompletionMs = 300;
  /** Who may do what: the server's user store (Velociraptor's users/ and acl/ records), set by the server. */
  users?: UserStore;
  /** Generated results kept as JSON Lines files (./result-store.ts), filled by storeResults(). */
  readonly results = new ResultStore();
  /**
   * `SELECT * FROM source(...)` over a generated result is sent in batches of JSON text (from the result store, or
   * rows built as text by generatedRowJson) rather than row by row through the evaluator. Tests turn it off for the
   * reference they compare those batches with.
   */
  directSource = true;
  /** Generated rows sent as text without the result store (tests check that the direct path served a query). */
  generatedServed = 0;

  constructor(input: FixtureInput) {
    this.fixture = parseFixture(input);
    for (const a of this.fixture.artifacts) this.artifacts.set(a.name, a);
    for (const o of this.fixture.orgs) {
      const clients = new Map<string, FixtureClient>();
      for (const c of o.clients) {
        // Negative last_seen_at means "seconds ago", so fixtures stay "recent" whenever the tests run.
        const last_seen_at = c.last_seen_at < 0 ? this.startedUs + c.last_seen_at * 1_000_000 : c.last_seen_at;
        clients.set(c.client_id, { ...c, labels: [...c.labels], last_seen_at });
      }
      this.orgs.set(o.id, {
        id: o.id,
        name: o.name,
        clients,
        flows: new Map(o.flows.map((f) => [`${f.client_id}/${f.session_id}`, { ...f }])),
        hunts: new Map(o.hunts.map((h) => [h.hunt_id, { ...h }])),
      });
    }
  }

  /**
   * Writes every generated flow result into the result store, as a finished flow's results sit in Velociraptor's
   * file store before anyone queries them; `SELECT * FROM source(...)` over them is then served from the files.
   * Only the flows named in `flowIds` when given.
   */
  async storeResults(flowIds?: readonly string[]): Promise<void> {
    for (const org of this.orgs.values())
      for (const f of org.flows.values()) {
        if (flowIds && !flowIds.includes(f.session_id)) continue;
        for (const r of Object.values(f.results)) if (!Array.isArray(r)) await this.results.store(r, generatedLines(r.generate.rows, r.generate.seed), GENERATED_COLUMNS);
      }
  }

  /** A fixture file, checked (schema and references) by ./fixture-load.ts. */
  static fromFile(path: string): Model {
    return new Model(loadFixtureFile(path));
  }

  org(id: string): OrgState | undefined {
    return this.orgs.get(id || "root");
  }

  /** The user's effective permissions in an org, from the user store (empty without one). */
  permissions(user: string, orgId: string): Set<string> {
    return this.users?.permissions(orgId || "root", user) ?? new Set();
  }

  /** Reads `length` bytes at `offset` of a filestore file; undefined when no such file exists. */
  readFileStore(orgId: string, components: string[], offset: number, length: number): Buffer | undefined {
    const key = components.join("/");
    const dl = this.downloads.get(key);
    if (dl) return dl.subarray(offset, offset + length);
    for (const f of this.org(orgId)?.flows.values() ?? []) {
      const u = f.uploads.find((x) => x.components.join("/") === key);
      if (!u) continue;
      if (u.content !== undefined) return Buffer.from(u.content).subarray(offset, offset + length);
      const size = u.size ?? 0;
      const n = Math.max(0, Math.min(length, size - offset));
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = generatedByte(offset + i);
      return out;
    }
    return undefined;
  }

  newFlowId(): string {
    return `F.${idSuffix(++this.counter)}${Date.now().toString(36).toUpperCase().slice(-4)}`;
  }

  newHuntId(): string {
    return `H.${idSuffix(++this.counter)}${Date.now().toString(36).toUpperCase().slice(-4)}`;
  }

  /** Result rows a new collection of `artifact` produces on a client of `os`, per source key. */
  sampleResults(artifact: FixtureArtifact, os: string): Record<string, Row[]> {
    const perOs = artifact.samples[os] ?? artifact.samples.any ?? {};
    const out: Record<string, Row[]> = {};
    for (const [source, rows] of Object.entries(perOs)) out[source ? `${artifact.name}/${source}` : artifact.name] = rows;
    return out;
  }

  flowRow(f: FixtureFlow & { results: Record<string, FixtureRows> }): Row {
    const total = Object.values(f.results).reduce((n, r) => n + (Array.isArray(r) ? r.length : r.generate.rows), 0);
    return {
      session_id: f.session_id,
      client_id: f.client_id,
      request: { client_id: f.client_id, artifacts: f.artifacts, creator: f.creator },
      create_time: f.create_time,
      start_time: f.create_time,
      active_time: f.create_time,
      state: f.state,
      status: f.status,
      artifacts_with_results: Object.keys(f.results).filter((k) => {
        const r = f.results[k]!;
        return Array.isArray(r) ? r.length > 0 : r.generate.rows > 0;
      }),
      total_collected_rows: total,
      total_uploaded_files: f.uploads.length,
      total_uploaded_bytes: f.uploads.reduce((n, u) => n + (u.size ?? u.content?.length ?? 0), 0),
      execution_duration: 1_200_000_000,
    };
  }

  huntRow(h: FixtureHunt): Row {
    return {
      hunt_id: h.hunt_id,
      hunt_description: h.hunt_description,
      create_time: h.create_time,
      start_time: h.create_time,
      creator: h.creator,
      expires: h.expires,
      state: h.state,
      artifacts: h.artifacts,
      tags: h.tags,
      condition: h.include_labels.length ? { labels: { label: h.include_labels } } : {},
      stats: { total_clients_scheduled: h.flows.length, total_clients_with_results: h.flows.length, total_clients_with_errors: 0 },
      start_request: { artifacts: h.artifacts },
    };
  }
}

const PS_NAMES = ["sshd", "nginx", "python3", "bash", "postgres", "containerd", "kworker/0:1", "cron", "systemd-journald", "node"];
// generated-batches.ts writes rows as Latin-1: the names must stay ASCII (the rest of a row is by construction).
if (PS_NAMES.some((n) => !/^[\x20-\x7e]*$/.test(n))) throw new Error("generated row names must be ASCII");
const PS_DIGEST_TAIL = "ab".repeat(28);
const PS_EPOCH_MS = 1_763_900_000_000;

/** Deterministic ~420-byte Linux.Sys.Pslist rows, produced lazily: a 1M-row flow costs no memory. */
export function* generatedRows(count: number, seed: number, startRow = 0): Generator<Row> {
  for (let i = startRow; i < count; i++) {
    const x = (i * 2654435761 + seed * 40503) >>> 0;
    const name = PS_NAMES[x % PS_NAMES.length]!;
    const digest = `${x.toString(16).padStart(8, "0")}${PS_DIGEST_TAIL}`;
    // Linux.Sys.Pslist's columns as Velociraptor v0.77.2 emits them (dfir/analysis/columns): the process tracker's
    // string Pid/Ppid, CreateTime as RFC 3339 text, a Hash object, RSS and Deleted.
    yield {
      Pid: String(1000 + i),
      Ppid: String(1 + (x % 997)),
      Name: name,
      CommandLine: `/usr/bin/${name} --worker ${x % 64} --config /etc/${name}/${name}.conf --log-level info`,
      Exe: `/usr/bin/${name}`,
      Hash: { MD5: digest.slice(0, 32), SHA1: digest.slice(0, 40), SHA256: digest },
      Username: x % 3 === 0 ? "root" : "svc-app",
      CreateTime: new Date(PS_EPOCH_MS + i * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
      RSS: (x % 500_000) * 1024,
      Deleted: false,
    };
  }
}

/** The columns of every generated row (its keys, as the row-by-row path reports them). */
export const GENERATED_COLUMNS: readonly string[] = Object.keys(generatedRows(1, 1).next().value!);

/** generatedRows(count, seed, startRow) as JSON text, one string per row. */
export function* generatedLines(count: number, seed: number, startRow = 0): Generator<string> {
  for (let i = startRow; i < count; i++) yield generatedRowJson(i, seed);
}

// The text of generatedRowJson in pieces: what a name fixes (quoted name, command line, exe), the hash tails, and
// the CreateTime day (its digits change once per 86,400 rows).
const PS_NAME_HEAD = PS_NAMES.map((n) => `","Name":${JSON.stringify(n)},"CommandLine":"/usr/bin/${n} --worker `);
const PS_NAME_TAIL = PS_NAMES.map((n) => ` --config /etc/${n}/${n}.conf --log-level info","Exe":"/usr/bin/${n}","Hash":{"MD5":"`);
const PS_MD5_TAIL = PS_DIGEST_TAIL.slice(0, 24);
const PS_SHA1_TAIL = PS_DIGEST_TAIL.slice(0, 32);
const DAY_MS = 86_400_000;
let cachedDay = NaN;
let cachedDayText = "";
const twoDigits = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** generatedRows' CreateTime of row i: toISOString of a whole second without its ".000". */
function createTimeText(i: number): string {
  const ms = PS_EPOCH_MS + i * 1000;
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayText = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  const s = (ms - day * DAY_MS) / 1000;
  return `${cachedDayText}${twoDigits(Math.floor(s / 3600))}:${twoDigits(Math.floor(s / 60) % 60)}:${twoDigits(s % 60)}Z`;
}

/**
 * Row `i` of generatedRows(…, seed) as JSON.stringify writes it, built as text: building the object and stringifying
 * it cost most of the test server's CPU per generated row. Every string but the name is digits, hex, ASCII letters,
 * '/', '-', ':' and spaces, which JSON writes unescaped; the name is quoted by JSON.stringify once per name. Equal to
 * JSON.stringify(row) for every row checked (test/test-server/generated-rows.test.ts). ASCII only (PS_NAMES are).
 */
export function generatedRowJson(i: number, seed: number): string {
  const x = (i * 2654435761 + seed * 40503) >>> 0;
  const k = x % PS_NAMES.length;
  const hex = x.toString(16).padStart(8, "0");
  return (
    `{"Pid":"${1000 + i}","Ppid":"${1 + (x % 997)}${PS_NAME_HEAD[k]!}${x % 64}${PS_NAME_TAIL[k]!}${hex}${PS_MD5_TAIL}","SHA1":"${hex}${PS_SHA1_TAIL}",` +
    `"SHA256":"${hex}${PS_DIGEST_TAIL}"},"Username":"${x % 3 === 0 ? "root" : "svc-app"}","CreateTime":"${createTimeText(i)}","RSS":${(x % 500_000) * 1024},"Deleted":false}`
  );
}

/** Deterministic content of generated uploads, so tests can hash what they download. */
export function generatedByte(offset: number): number {
  return (offset * 31 + (offset >>> 8) * 7 + 13) & 0xff;
}
