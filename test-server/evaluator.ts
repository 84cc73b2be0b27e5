/**
 * A VQL evaluator over the project's parser, backed by the Model. It reproduces what matters to a client: plugins
 * stream rows lazily, bad arguments and missing permissions are logged (the call yields NULL / no rows), LET carries
 * across statements, and the args of every plugin/function are checked against the reference's argument lists.
 */
import type { Arg, Expr, SelectStatement, Statement } from "../velociraptor/vql/ast.js";
import { generatedRows, type Model, type OrgState, type Row } from "./model.js";
import { parse as parseYaml } from "yaml";
import { runRemediation } from "./endpoint.js";
import { ArtifactSchema, type FixtureRows } from "./fixture-schema.js";
import { effectivePolicy, PERMISSIONS, permissionField } from "./acl.js";
import { SUPERUSER as SUPERUSER_NAME } from "./user-store.js";

export interface EvalContext {
  model: Model;
  user: string;
  org: OrgState;
  permissions: Set<string>;
  log: (message: string) => void;
  signal: AbortSignal;
  /** Rows of the current GROUP BY group, for count(). */
  group?: Row[];
}

type Value = unknown;
type LetDef = { kind: "query"; query: SelectStatement; params?: string[] } | { kind: "value"; value: Value } | { kind: "expr"; expr: Expr; params: string[] };

export class Scope {
  private readonly vars = new Map<string, Value | LetDef>();
  constructor(private readonly parent?: Scope) {}
  set(name: string, value: Value): void {
    this.vars.set(name, value);
  }
  has(name: string): boolean {
    return this.vars.has(name) || (this.parent?.has(name) ?? false);
  }
  get(name: string): Value {
    if (this.vars.has(name)) return this.vars.get(name);
    return this.parent?.get(name);
  }
  child(row?: Row): Scope {
    const s = new Scope(this);
    if (row) for (const [k, v] of Object.entries(row)) s.vars.set(k, v);
    return s;
  }
}

const LET_MARK = Symbol("let");
function letDef(def: LetDef): Value {
  return { [LET_MARK]: def };
}
function asLet(v: Value): LetDef | undefined {
  return v && typeof v === "object" && LET_MARK in (v as object) ? (v as Record<symbol, LetDef>)[LET_MARK] : undefined;
}

interface PluginSpec {
  args: string[];
  perm?: string | string[];
  run: (args: Record<string, Value>, ctx: EvalContext) => Iterable<Row> | AsyncIterable<Row>;
}
interface FunctionSpec {
  args: string[] | "any";
  perm?: string | string[];
  call: (args: Record<string, Value>, ctx: EvalContext, positional: Value[]) => Value;
}

const truthy = (v: Value): boolean =>
  !(v === null || v === undefined || v === false || v === 0 || v === "" || (Array.isArray(v) && v.length === 0));
const list = (v: Value): Value[] => (v === null || v === undefined || v === "" ? [] : Array.isArray(v) ? v : [v]);
const str = (v: Value): string => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
const num = (v: Value): number => (typeof v === "number" ? v : Number(v ?? 0) || 0);
const bool = (v: Value): boolean => (typeof v === "string" ? /^(y|yes|true|1)$/i.test(v) : truthy(v));

/**
 * vql/acls.go CheckAccess as the plugins log it: "<name>: PermissionDenied: Permission denied: [PERM]" (the
 * permission list printed as a Go slice). Where the model accepts any of several permissions, the first is named.
 */
function requirePerm(name: string, perm: string | string[] | undefined, ctx: EvalContext): boolean {
  if (!perm) return true;
  const any = Array.isArray(perm) ? perm : [perm];
  if (any.some((p) => ctx.permissions.has(p))) return true;
  ctx.log(`${name}: PermissionDenied: Permission denied: [${any[0]}]`);
  return false;
}

/**
 * services/users/get.go GetUser as the `user()` function sees it: the superuser gets a hard-coded record; anyone may
 * read their own record; ORG_ADMIN (root org) sees every record; otherwise SERVER_ADMIN or READ_RESULTS in an org the
 * user belongs to. Returns the record's name, or the error text Velociraptor logs.
 */
function visibleUser(ctx: EvalContext, name: string): { name: string } | string {
  if (name === SUPERUSER_NAME) return { name };
  const store = ctx.model.users;
  if (!store?.hasUser(name)) return `User not found: ${name}`;
  const record = store.getUser(name);
  if (ctx.user === record.name || ctx.user === SUPERUSER_NAME) return { name: record.name };
  if (store.checkAccess("root", ctx.user, "ORG_ADMIN").allowed) return { name: record.name };
  for (const o of ctx.model.orgs.values()) {
    if (!store.getPolicy(o.id, record.name)) continue;
    if (store.checkAccess(o.id, ctx.user, "SERVER_ADMIN").allowed || store.checkAccess(o.id, ctx.user, "READ_RESULTS").allowed) return { name: record.name };
  }
  return "PermissionDenied";
}

/**
 * vql/server/users/users.go getUserRecord for the scope's org: `roles` is the stored policy's roles (NULL without a
 * policy), `effective_policy` the expanded ApiClientACL (services/acl_manager GetEffectivePolicy: roles expanded and
 * then cleared, super_user only for the server's own identity, org_admin only in the root org) with its proto field
 * names and only the fields that are set (ConvertPolicyToOrderedDict) — NULL when it cannot be expanded.
 */
function userRecord(ctx: EvalContext, name: string): Record<string, Value> {
  const record: Record<string, Value> = { name, org_id: ctx.org.id, org_name: ctx.org.name, picture: "", email: false, stats: null };
  if (name === SUPERUSER_NAME) return { ...record, roles: null, _policy: {}, effective_policy: { super_user: true } };
  const policy = ctx.model.users?.getPolicy(ctx.org.id, name);
  if (!policy) return { ...record, roles: null, _policy: {}, effective_policy: null };
  const stored: Record<string, Value> = {};
  for (const p of PERMISSIONS) if (policy.permissions.includes(p)) stored[permissionField(p)] = true;
  if (policy.publishQueues.length) stored.publish_queues = policy.publishQueues;
  if (policy.roles.length) stored.roles = policy.roles;
  const e = effectivePolicy(policy, ctx.org.id);
  let effective: Record<string, Value> | null = null;
  if (e.ok) {
    effective = {};
    if (e.publishQueues.length) effective.publish_queues = e.publishQueues;
    for (const p of PERMISSIONS) if (e.permissions.has(p)) effective[permissionField(p)] = true;
  }
  return { ...record, roles: policy.roles, _policy: stored, effective_policy: effective };
}

/** The roles a user holds in an org, from the server's user store. */
function rolesIn(ctx: EvalContext, user: string, orgId: string): string[] {
  return ctx.model.users?.getPolicy(orgId, user)?.roles ?? [];
}

/** A fixture result given as `{ generate: { rows, seed } }`. */
export type GeneratedRows = Exclude<FixtureRows, unknown[]>;

function* rowsOf(r: FixtureRows | undefined, startRow = 0): Generator<Row> {
  if (!r) return;
  if (Array.isArray(r)) {
    for (let i = startRow; i < r.length; i++) yield r[i]!;
  } else yield* generatedRows(r.generate.rows, r.generate.seed, startRow);
}

function clientOs(ctx: EvalContext, clientId: string): string | undefined {
  return ctx.org.clients.get(clientId)?.os_info.system;
}

function matchesSearch(c: { client_id: string; os_info: { hostname: string; fqdn: string }; labels: string[]; last_ip: string; last_seen_at: number }, search: string, nowUs: number): boolean {
  const s = search.trim();
  if (!s || s === "all") return true;
  const [verb, ...rest] = s.includes(":") ? s.split(":") : ["", s];
  const term = rest.join(":").toLowerCase();
  const glob = (v: string) => new RegExp(`^${term.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(v) || v.toLowerCase().includes(term.replace(/\*/g, ""));
  switch (verb.toLowerCase()) {
    case "label":
      return term === "none" ? c.labels.length === 0 : c.labels.some((l) => l.toLowerCase() === term);
    case "host":
      return glob(c.os_info.hostname) || glob(c.os_info.fqdn);
    case "client":
      return c.client_id.toLowerCase().startsWith(term);
    case "ip":
      return c.last_ip.startsWith(term);
    case "recent":
      return nowUs - c.last_seen_at < 86_400_000_000;
    case "":
      if (/^c\.[0-9a-f]+$/i.test(s)) return c.client_id.toLowerCase().startsWith(s.toLowerCase());
      return c.os_info.hostname.toLowerCase().includes(s.toLowerCase()) || c.os_info.fqdn.toLowerCase().includes(s.toLowerCase());
    default:
      return false;
  }
}

function clientRow(c: OrgState["clients"] extends Map<string, infer C> ? C : never): Row {
  return {
    client_id: c.client_id,
    agent_information: { version: c.agent_information.version, name: c.agent_information.name, build_time: "", build_url: "" },
    os_info: { system: c.os_info.system, hostname: c.os_info.hostname, release: c.os_info.release, machine: c.os_info.machine, fqdn: c.os_info.fqdn, mac_addresses: c.os_info.mac_addresses },
    first_seen_at: c.first_seen_at,
    last_seen_at: c.last_seen_at,
    last_ip: c.last_ip,
    last_interrogate_flow_id: "",
    last_interrogate_artifact_name: "Generic.Client.Info",
    labels: [...c.labels],
    last_hunt_timestamp: 0,
    in_flight_flows: {},
  };
}

function findFlow(ctx: EvalContext, clientId: string, flowId: string) {
  return ctx.org.flows.get(`${clientId}/${flowId}`);
}

function resultsKey(results: Record<string, FixtureRows>, artifact: string | undefined, source: string | undefined, ctx: EvalContext, who: string): string | undefined {
  const keys = Object.keys(results);
  if (!artifact) return keys[0];
  const key = source ? `${artifact}/${source}` : artifact;
  if (key in results) return key;
  const sources = keys.filter((k) => k.startsWith(`${artifact}/`));
  if (!source && sources.length) {
    ctx.log(`${who}: artifact ${artifact} has several sources (${sources.map((s) => s.slice(artifact.length + 1)).join(", ")}); cannot read it without one: use artifact='${artifact}/<Source>'`);
  }
  return undefined;
}

function completeFlowLater(ctx: EvalContext, key: string, failure?: string): void {
  const timer = setTimeout(() => {
    const f = ctx.org.flows.get(key);
    if (!f || f.state !== "RUNNING") return;
    if (failure) {
      f.state = "ERROR";
      f.status = failure;
      f.results = {};
      f.logs.push({ level: "ERROR", message: failure });
    } else f.state = "FINISHED";
  }, ctx.model.flowCompletionMs);
  timer.unref();
}

/** The row of Velociraptor's info() (vql/info.go GetInfo 40-66, plus Fqdn and Architecture 99-101) for the test host. */
function hostInfo(ctx: EvalContext): Row {
  return {
    Hostname: ctx.model.fixture.server.hostname,
    Uptime: Math.round((Date.now() * 1000 - ctx.model.startedUs) / 1e6),
    BootTime: Math.round(ctx.model.startedUs / 1e6),
    OS: "linux",
    Platform: "debian",
    PlatformFamily: "debian",
    PlatformVersion: "12",
    KernelVersion: "6.1.0",
    Architecture: "amd64",
    Fqdn: `${ctx.model.fixture.server.hostname}.example.com`,
    IsAdmin: false,
  };
}

const PLUGINS: Record<string, PluginSpec> = {
  scope: { args: [], run: () => [{}] },
  info: { args: [], perm: "MACHINE_STATE", run: (_a, ctx) => [hostInfo(ctx)] },
  range: {
    args: ["start", "end", "step"],
    *run(a) {
      const step = num(a.step) || 1;
      for (let i = num(a.start); i < num(a.end); i += step) yield { _value: i };
    },
  },
  items: {
    args: ["item"],
    *run(a) {
      const item = a.item as Record<string, Value> | undefined;
      if (item && typeof item === "object") for (const [k, v] of Object.entries(item)) yield { _key: k, _value: v };
    },
  },
  clients: {
    args: ["search", "client_id", "start", "count"],
    perm: "READ_RESULTS",
    *run(a, ctx) {
      const now = Date.now() * 1000;
      if (a.client_id) {
        const c = ctx.org.clients.get(str(a.client_id));
        if (c) yield clientRow(c);
        return;
      }
      for (const c of ctx.org.clients.values()) if (matchesSearch(c, str(a.search), now)) yield clientRow(c);
    },
  },
  flows: {
    args: ["client_id", "flow_id", "summary"],
    perm: "READ_RESULTS",
    *run(a, ctx) {
      const flows = [...ctx.org.flows.values()].filter((f) => f.client_id === str(a.client_id) && (!a.flow_id || f.session_id === str(a.flow_id)));
      flows.sort((x, y) => y.create_time - x.create_time);
      for (const f of flows) yield ctx.model.flowRow(f);
    },
  },
  source: {
    args: ["client_id", "flow_id", "hunt_id", "artifact", "source", "start_time", "end_time", "notebook_id", "notebook_cell_id", "notebook_cell_version", "notebook_cell_table", "start_row", "count", "orgs"],
    perm: "READ_RESULTS",
    *run(a, ctx) {
      const start = num(a.start_row);
      const count = a.count === undefined || a.count === null ? Infinity : num(a.count);
      let emitted = 0;
      if (a.hunt_id) {
        yield* huntResults(ctx, str(a.hunt_id), str(a.artifact) || undefined, str(a.source) || undefined, start, count);
        return;
      }
      const f = findFlow(ctx, str(a.client_id), str(a.flow_id));
      if (!f) {
        ctx.log(`source: flow ${str(a.flow_id)} not found for client ${str(a.client_id)}`);
        return;
      }
      const key = resultsKey(f.results, str(a.artifact) || undefined, str(a.source) || undefined, ctx, "source");
      if (!key) return;
      for (const row of rowsOf(f.results[key], start)) {
        if (emitted++ >= count) return;
        yield row;
      }
    },
  },
  flow_results: {
    args: ["artifact", "source", "flow_id", "client_id"],
    perm: "READ_RESULTS",
    *run(a, ctx) {
      const f = findFlow(ctx, str(a.client_id), str(a.flow_id));
      if (!f) return ctx.log(`flow_results: flow ${str(a.flow_id)} not found`);
      const key = resultsKey(f.results, str(a.artifact) || undefined, str(a.source) || undefined, ctx, "flow_results");
      if (key) yield* rowsOf(f.results[key]);
    },
  },
  flow_logs: {
    args: ["flow_id", "client_id"],
    perm: "READ_RESULTS",
    *run(a, ctx) {
      const f = findFlow(ctx, str(a.client_id), str(a.flow_id));
      if (!f) return ctx.log(`flow_logs: flow ${str(a.flow_id)} not found`);
      let t = f.create_time;
      for (const l of f.logs) yield { _ts: Math.round((t += 1_000_000) / 1e6), client_time: Math.round(t / 1e6), level: l.level, message: l.message };
    },
  },
  uploads: {
    args: ["client_id", "flow_id", "hunt_id", "notebook_id"],
    perm: "READ_RESULTS",
    *run(a, ctx) {
      const f = findFlow(ctx, str(a.client_id), str(a.flow_id));
      if (!f) return ctx.log(`uploads: flow ${str(a.flow_id)} not found`);
      for (const u of f.uploads)
        yield { Timestamp: new Date(f.create_time / 1000).toISOString(), started: f.create_time, vfs_path: u.components.join("/"), _Components: u.components, file_size: u.size ?? Buffer.byteLength(u.content ?? ""), uploaded_size: u.size ?? Buffer.byteLength(u.content ?? ""), Upload: { Path: u.name, Components: u.components } };
    },
  },
  artifact_definitions: {
    args: ["names", "deps", "sanitize"],
    perm: "READ_RESULTS",
    *run(a, ctx) {
      const names = list(a.names).map(str);
      for (const art of ctx.model.artifacts.values()) {
        if (names.length && !names.includes(art.name)) continue;
        yield {
          name: art.name,
          description: art.description,
          author: art.author ?? "",
          type: art.type,
          precondition: art.precondition ?? "",
          required_permissions: art.required_permissions,
          parameters: art.parameters,
          sources: art.sources,
          built_in: true,
        };
      }
    },
  },
  hunts: {
    args: ["hunt_id", "summary"],
    perm: "READ_RESULTS",
    *run(a, ctx) {
      const hunts = [...ctx.org.hunts.values()].filter((h) => (!a.hunt_id || h.hunt_id === str(a.hunt_id)) && h.state !== "DELETED");
      hunts.sort((x, y) => y.create_time - x.create_time);
      for (const h of hunts) yield ctx.model.huntRow(h);
    },
  },
  hunt_results: {
    args: ["artifact", "source", "hunt_id", "brief", "orgs"],
    perm: "READ_RESULTS",
    run: (a, ctx) => huntResults(ctx, str(a.hunt_id), str(a.artifact) || undefined, str(a.source) || undefined, 0, Infinity),
  },
  hunt_flows: {
    args: ["hunt_id", "start_row", "limit", "basic_info"],
    perm: "READ_RESULTS",
    *run(a, ctx) {
      const h = ctx.org.hunts.get(str(a.hunt_id));
      if (!h) return ctx.log(`hunt_flows: hunt ${str(a.hunt_id)} not found`);
      for (const hf of h.flows.slice(num(a.start_row), a.limit ? num(a.start_row) + num(a.limit) : undefined)) {
        const f = findFlow(ctx, hf.client_id, hf.flow_id);
        yield { HuntId: h.hunt_id, ClientId: hf.client_id, FlowId: hf.flow_id, Hostname: ctx.org.clients.get(hf.client_id)?.os_info.hostname ?? "", Flow: f ? ctx.model.flowRow(f) : null };
      }
    },
  },
  hunt_delete: {
    args: ["hunt_id", "really_do_it", "workers", "archive"],
    perm: "SERVER_ADMIN",
    *run(a, ctx) {
      const h = ctx.org.hunts.get(str(a.hunt_id));
      if (!h) return ctx.log(`hunt_delete: hunt ${str(a.hunt_id)} not found`);
      if (!bool(a.really_do_it)) {
        yield { HuntId: h.hunt_id, Type: "dry-run", Deleted: false };
        return;
      }
      h.state = bool(a.archive) ? "ARCHIVED" : "DELETED";
      yield { HuntId: h.hunt_id, Type: bool(a.archive) ? "archive" : "delete", Deleted: !bool(a.archive) };
    },
  },
  orgs: {
    args: [],
    *run(_a, ctx) {
      for (const o of ctx.model.orgs.values()) if (ctx.model.permissions(ctx.user, o.id).size) yield { OrgId: o.id, Name: o.name, id: o.id, name: o.name };
    },
  },
  gui_users: {
    args: ["all_orgs"],
    perm: "SERVER_ADMIN",
    *run(_a, ctx) {
      for (const name of ctx.model.users?.listUsers() ?? []) yield { name, roles: rolesIn(ctx, name, ctx.org.id) };
    },
  },
  help: {
    args: [],
    *run() {
      for (const [name, p] of Object.entries(PLUGINS)) yield { name, type: "Plugin", args: p.args };
      for (const [name, f] of Object.entries(FUNCTIONS)) yield { name, type: "Function", args: f.args === "any" ? [] : f.args };
    },
  },
};

function* huntResults(ctx: EvalContext, huntId: string, artifact: string | undefined, source: string | undefined, start: number, count: number): Generator<Row> {
  const h = ctx.org.hunts.get(huntId);
  if (!h) return ctx.log(`hunt_results: hunt ${huntId} not found`);
  const art = artifact ?? h.artifacts[0];
  if (art && !h.artifacts.includes(art.split("/")[0]!)) return ctx.log(`hunt_results: artifact ${art} is not part of hunt ${huntId}`);
  let index = 0;
  let emitted = 0;
  for (const hf of h.flows) {
    const f = findFlow(ctx, hf.client_id, hf.flow_id);
    if (!f) continue;
    const key = resultsKey(f.results, art, source, ctx, "hunt_results");
    if (!key) continue;
    const fqdn = ctx.org.clients.get(hf.client_id)?.os_info.fqdn ?? "";
    for (const row of rowsOf(f.results[key])) {
      if (index++ < start) continue;
      if (emitted++ >= count) return;
      yield { ...row, FlowId: hf.flow_id, ClientId: hf.client_id, Fqdn: fqdn, _OrgId: ctx.org.id };
    }
  }
}

function parseDictArg(v: Value): Record<string, Value> {
  if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, Value>;
  return {};
}

const FUNCTIONS: Record<string, FunctionSpec> = {
  dict: { args: "any", call: (a) => ({ ...a }) },
  parse_json: {
    args: ["data", "schema"],
    call: (a, ctx) => {
      const text = str(a.data);
      if (!text.trimStart().startsWith("{")) {
        ctx.log("parse_json: data is not a JSON object");
        return null;
      }
      try {
        return JSON.parse(text);
      } catch (err) {
        ctx.log(`parse_json: ${(err as Error).message}`);
        return null;
      }
    },
  },
  split: { args: ["string", "sep", "sep_string"], call: (a) => str(a.string).split(a.sep_string !== undefined ? str(a.sep_string) : new RegExp(str(a.sep) || ",")) },
  join: { args: ["array", "sep"], call: (a) => list(a.array).map(str).join(str(a.sep)) },
  now: { args: [], call: () => Math.floor(Date.now() / 1000) },
  timestamp: {
    args: ["epoch", "cocoatime", "mactime", "winfiletime", "string", "format"],
    call: (a) => {
      const v = a.epoch ?? a.string;
      const n = typeof v === "number" ? v : Number(v);
      const d = Number.isFinite(n) ? new Date(n > 1e14 ? n / 1000 : n > 1e11 ? n : n * 1000) : new Date(str(v));
      return Number.isNaN(d.getTime()) ? null : d.toISOString();
    },
  },
  int: { args: ["int"], call: (a) => Math.trunc(num(a.int)) },
  str: { args: ["str"], call: (a) => str(a.str) },
  format: { args: ["format", "args"], call: (a) => { const args = list(a.args); let i = 0; return str(a.format).replace(/%[vsdqx]/g, () => str(args[i++])); } },
  len: { args: ["list"], call: (a) => (Array.isArray(a.list) ? a.list.length : typeof a.list === "string" ? a.list.length : a.list && typeof a.list === "object" ? Object.keys(a.list).length : 0) },
  count: { args: ["items"], call: (_a, ctx) => ctx.group?.length ?? 1 },
  upcase: { args: ["string"], call: (a) => str(a.string).toUpperCase() },
  lowcase: { args: ["string"], call: (a) => str(a.string).toLowerCase() },
  regex_replace: { args: ["source", "re", "replace", "replace_lambda"], call: (a) => str(a.source).replace(new RegExp(str(a.re), "g"), str(a.replace)) },
  if: { args: ["condition", "then", "else"], call: (a) => (truthy(a.condition) ? a.then : a.else) },
  get: { args: ["item", "member", "field", "default"], call: (a) => { let v: Value = a.item; for (const p of str(a.member ?? a.field).split(".")) v = v && typeof v === "object" ? (v as Record<string, Value>)[p] : undefined; return v ?? a.default ?? null; } },
  serialize: { args: ["item", "format"], call: (a) => JSON.stringify(a.item) },
  // The function form of info() carries the same MACHINE_STATE check (vql/info.go 122-128, 73-77).
  info: { args: [], perm: "MACHINE_STATE", call: (_a, ctx) => hostInfo(ctx) },
  whoami: { args: [], call: (_a, ctx) => ctx.user },
  user: {
    args: ["user", "org"],
    // vql/server/users/get.go UserFunction: the `org` argument is parsed but unused (the record is built for the
    // scope's org); every failure is logged as "user: …" and the call yields NULL.
    call: (a, ctx) => {
      const name = str(a.user);
      if (!name) return ctx.log("user: user: required argument"), null;
      const seen = visibleUser(ctx, name);
      if (typeof seen === "string") return ctx.log(`user: ${seen}`), null;
      return userRecord(ctx, seen.name);
    },
  },
  client_info: {
    args: ["client_id"],
    perm: "READ_RESULTS",
    call: (a, ctx) => {
      const c = ctx.org.clients.get(str(a.client_id));
      return c ? clientRow(c) : null;
    },
  },
  label: {
    args: ["client_id", "labels", "op"],
    perm: "LABEL_CLIENT",
    call: (a, ctx) => {
      const c = ctx.org.clients.get(str(a.client_id));
      if (!c) {
        ctx.log(`label: client ${str(a.client_id)} not found`);
        return null;
      }
      const labels = list(a.labels).map(str);
      // As in Velociraptor: no default op — without op nothing happens.
      switch (str(a.op)) {
        case "set":
          for (const l of labels) if (!c.labels.includes(l)) c.labels.push(l);
          break;
        case "remove":
          c.labels = c.labels.filter((l) => !labels.includes(l));
          break;
        case "check":
          return labels.every((l) => c.labels.includes(l));
      }
      return { client_id: c.client_id, labels, op: a.op ?? null };
    },
  },
  collect_client: {
    args: ["client_id", "artifacts", "env", "spec", "flow_id", "timeout", "ops_per_sec", "cpu_limit", "iops_limit", "max_rows", "max_bytes", "urgent", "org_id"],
    call: (a, ctx) => {
      const clientId = str(a.client_id);
      const spec = parseDictArg(a.spec);
      const artifacts = list(a.artifacts).map(str);
      if (!artifacts.length) artifacts.push(...Object.keys(spec));
      if (!artifacts.length) {
        ctx.log("collect_client: no artifacts specified");
        return null;
      }
      const isServer = clientId === "server";
      // services/launcher/acls.go CheckAccess (artifacts marked basic for COLLECT_BASIC are not modelled).
      const needed = isServer ? "COLLECT_SERVER" : "COLLECT_CLIENT";
      if (!ctx.permissions.has(needed)) {
        ctx.log(`collect_client: PermissionDenied: User ${ctx.user} is not allowed to launch flows ${needed}.`);
        return null;
      }
      const os = isServer ? "server" : clientOs(ctx, clientId);
      if (!os) {
        ctx.log(`collect_client: client ${clientId} not found`);
        return null;
      }
      const results: Record<string, Row[]> = {};
      let failure: string | undefined;
      for (const name of artifacts) {
        const art = ctx.model.artifacts.get(name);
        if (!art) {
          ctx.log(`collect_client: Unknown artifact ${name}`);
          return null;
        }
        const missing = art.required_permissions.find((p) => !ctx.permissions.has(p));
        if (missing) {
          ctx.log(`collect_client: PermissionDenied: While collecting artifact (${name}) permission denied ${missing}`);
          return null;
        }
        const params = { ...parseDictArg(a.env), ...parseDictArg(spec[name]) };
        for (const p of Object.keys(params))
          if (!art.parameters.some((x) => x.name === p)) ctx.log(`WARN:collect_client: artifact ${name} has no parameter ${p}`);
        const remediation = isServer ? undefined : runRemediation(ctx.org.clients.get(clientId)!.endpoint, name, params, os);
        if (remediation) results[name] = remediation;
        else Object.assign(results, ctx.model.sampleResults(art, os));
        if (art.failure?.os.includes(os)) failure = `${name}: ${art.failure.message}`;
      }
      const flowId = ctx.model.newFlowId();
      const key = `${clientId}/${flowId}`;
      ctx.org.flows.set(key, {
        client_id: clientId,
        session_id: flowId,
        artifacts,
        state: "RUNNING",
        status: "",
        create_time: Date.now() * 1000,
        creator: ctx.user,
        results,
        logs: [{ level: "INFO", message: `Starting collection of ${artifacts.join(", ")}` }],
        uploads: [],
      });
      completeFlowLater(ctx, key, failure);
      return { flow_id: flowId, request: { client_id: clientId, artifacts, specs: Object.entries(spec).map(([artifact, parameters]) => ({ artifact, parameters })), creator: ctx.user, urgent: bool(a.urgent), timeout: num(a.timeout) } };
    },
  },
  artifact_set: {
    args: ["definition", "prefix", "tags", "repository"],
    perm: "ARTIFACT_WRITER",
    call: (a, ctx) => {
      let def: Record<string, unknown>;
      try {
        def = parseYaml(str(a.definition)) as Record<string, unknown>;
      } catch (err) {
        ctx.log(`artifact_set: ${(err as Error).message}`);
        return null;
      }
      const parsed = ArtifactSchema.safeParse({ ...def, type: str(def.type || "client").toLowerCase(), parameters: ((def.parameters as Record<string, unknown>[]) ?? []).map((p) => ({ name: p.name, default: p.default === undefined ? "" : String(p.default), type: String(p.type ?? ""), description: String(p.description ?? "") })) });
      if (!parsed.success) {
        ctx.log(`artifact_set: invalid artifact: ${parsed.error.issues[0]?.message}`);
        return null;
      }
      ctx.model.artifacts.set(parsed.data.name, parsed.data);
      return { name: parsed.data.name, type: parsed.data.type };
    },
  },
  get_flow: {
    args: ["client_id", "flow_id", "summary"],
    perm: ["COLLECT_CLIENT", "COLLECT_SERVER", "READ_RESULTS"],
    call: (a, ctx) => {
      const f = findFlow(ctx, str(a.client_id), str(a.flow_id));
      return f ? ctx.model.flowRow(f) : null;
    },
  },
  cancel_flow: {
    args: ["client_id", "flow_id"],
    perm: ["COLLECT_CLIENT", "COLLECT_SERVER"],
    call: (a, ctx) => {
      const f = findFlow(ctx, str(a.client_id), str(a.flow_id));
      if (!f) {
        ctx.log(`cancel_flow: flow ${str(a.flow_id)} not found`);
        return null;
      }
      if (f.state === "RUNNING") {
        f.state = "ERROR";
        f.status = `Cancelled by ${ctx.user}`;
      }
      return { flow_id: f.session_id };
    },
  },
  create_flow_download: {
    args: ["client_id", "flow_id", "wait", "type", "template", "password", "format", "expand_sparse", "name"],
    perm: "PREPARE_RESULTS",
    call: (a, ctx) => {
      const f = findFlow(ctx, str(a.client_id), str(a.flow_id));
      if (!f) {
        ctx.log(`create_flow_download: flow ${str(a.flow_id)} not found`);
        return null;
      }
      const components = ["downloads", f.client_id, f.session_id, `${f.session_id}.zip`];
      ctx.model.downloads.set(components.join("/"), Buffer.from(JSON.stringify({ flow: f.session_id, results: Object.keys(f.results) })));
      return { Components: components, Path: components.join("/"), Type: "zip" };
    },
  },
  hunt: {
    args: ["description", "tags", "artifacts", "expires", "spec", "timeout", "ops_per_sec", "cpu_limit", "iops_limit", "max_rows", "max_bytes", "pause", "include_labels", "exclude_labels", "os", "org_id"],
    perm: "START_HUNT",
    call: (a, ctx) => {
      const spec = parseDictArg(a.spec);
      const artifacts = list(a.artifacts).map(str);
      if (!artifacts.length) artifacts.push(...Object.keys(spec));
      for (const name of artifacts)
        if (!ctx.model.artifacts.has(name)) {
          ctx.log(`hunt: Unknown artifact ${name}`);
          return null;
        }
      const expires = a.expires === undefined ? Date.now() * 1000 + 168 * 3600e6 : num(a.expires) * 1e6;
      if (expires < Date.now() * 1000) {
        ctx.log("hunt: expiry time is in the past");
        return null;
      }
      const id = ctx.model.newHuntId();
      ctx.org.hunts.set(id, {
        hunt_id: id,
        hunt_description: str(a.description),
        state: bool(a.pause) ? "PAUSED" : "RUNNING",
        artifacts,
        create_time: Date.now() * 1000,
        creator: ctx.user,
        expires,
        include_labels: list(a.include_labels).map(str),
        tags: list(a.tags).map(str),
        flows: [],
      });
      return { HuntId: id, Request: { artifacts, description: str(a.description) } };
    },
  },
  hunt_info: {
    args: ["hunt_id"],
    perm: "READ_RESULTS",
    call: (a, ctx) => {
      const h = ctx.org.hunts.get(str(a.hunt_id));
      return h ? ctx.model.huntRow(h) : null;
    },
  },
  hunt_update: {
    args: ["hunt_id", "stop", "start", "description", "expires", "add_labels", "del_labels"],
    perm: "START_HUNT",
    call: (a, ctx) => {
      const h = ctx.org.hunts.get(str(a.hunt_id));
      if (!h) {
        ctx.log(`hunt_update: hunt ${str(a.hunt_id)} not found`);
        return null;
      }
      if (bool(a.start)) h.state = "RUNNING";
      if (bool(a.stop)) h.state = "STOPPED";
      if (a.description !== undefined) h.hunt_description = str(a.description);
      h.tags = [...h.tags.filter((t) => !list(a.del_labels).map(str).includes(t)), ...list(a.add_labels).map(str)];
      return h.hunt_id;
    },
  },
};

export const KNOWN_PLUGINS = Object.keys(PLUGINS);
export const KNOWN_FUNCTIONS = Object.keys(FUNCTIONS);

function exprName(e: Expr): string {
  switch (e.kind) {
    case "ident":
      return e.name;
    case "member":
      return `${exprName(e.object)}.${e.property}`;
    case "call":
      return `${e.name}(${e.args.map((a) => (a.name ? `${a.name}=…` : "…")).join(", ")})`;
    case "literal":
      return str(e.value);
    default:
      return e.kind;
  }
}

export class Evaluator {
  constructor(private readonly ctx: EvalContext) {}

  private async args(list: Arg[], scope: Scope): Promise<{ named: Record<string, Value>; positional: Value[] }> {
    const named: Record<string, Value> = {};
    const positional: Value[] = [];
    for (const a of list) {
      const v = await this.expr(a.value, scope);
      if (a.name) named[a.name] = v;
      else positional.push(v);
    }
    return { named, positional };
  }

  private checkArgs(name: string, allowed: string[] | "any", named: Record<string, Value>): boolean {
    if (allowed === "any") return true;
    for (const k of Object.keys(named))
      if (!allowed.includes(k)) {
        this.ctx.log(`${name}: Unexpected arg ${k}`);
        return false;
      }
    return true;
  }

  async expr(e: Expr, scope: Scope): Promise<Value> {
    switch (e.kind) {
      case "literal":
        return e.value;
      case "ident": {
        if (!scope.has(e.name)) {
          if (e.name === "config") return { server_version: { version: this.ctx.model.fixture.server.version }, version: { version: this.ctx.model.fixture.server.version } };
          this.ctx.log(`Symbol ${e.name} not found`);
          return null;
        }
        const v = scope.get(e.name);
        const def = asLet(v);
        if (!def) return v;
        if (def.kind === "value") return def.value;
        if (def.kind === "query") return this.collect(def.query, scope);
        return null;
      }
      case "member": {
        const o = await this.expr(e.object, scope);
        if (Array.isArray(o)) return o.map((x) => (x && typeof x === "object" ? (x as Record<string, Value>)[e.property] : null));
        return o && typeof o === "object" ? ((o as Record<string, Value>)[e.property] ?? null) : null;
      }
      case "index": {
        const o = await this.expr(e.object, scope);
        const i = await this.expr(e.index, scope);
        if (Array.isArray(o)) return o[num(i) < 0 ? o.length + num(i) : num(i)] ?? null;
        return o && typeof o === "object" ? ((o as Record<string, Value>)[str(i)] ?? null) : null;
      }
      case "list":
        return Promise.all(e.items.map((i) => this.expr(i, scope)));
      case "subquery":
        return this.collect(e.query, scope);
      case "lambda":
        return null;
      case "unary": {
        const v = await this.expr(e.operand, scope);
        return e.op === "NOT" ? !truthy(v) : -num(v);
      }
      case "binary": {
        if (e.op === "AND") return truthy(await this.expr(e.left, scope)) && truthy(await this.expr(e.right, scope));
        if (e.op === "OR") return truthy(await this.expr(e.left, scope)) || truthy(await this.expr(e.right, scope));
        const l = await this.expr(e.left, scope);
        const r = await this.expr(e.right, scope);
        switch (e.op) {
          case "=":
            return l === r || (l !== null && r !== null && str(l) === str(r));
          case "!=":
            return !(l === r || str(l) === str(r));
          case "<":
            return typeof l === "number" && typeof r === "number" ? l < r : str(l) < str(r);
          case "<=":
            return typeof l === "number" && typeof r === "number" ? l <= r : str(l) <= str(r);
          case ">":
            return typeof l === "number" && typeof r === "number" ? l > r : str(l) > str(r);
          case ">=":
            return typeof l === "number" && typeof r === "number" ? l >= r : str(l) >= str(r);
          case "=~":
            try {
              return Array.isArray(l) ? l.some((x) => new RegExp(str(r), "i").test(str(x))) : new RegExp(str(r), "i").test(str(l));
            } catch {
              this.ctx.log(`Invalid regex ${str(r)}`);
              return false;
            }
          case "IN":
            return Array.isArray(r) ? r.some((x) => str(x) === str(l)) : str(r).includes(str(l));
          case "+":
            if (Array.isArray(l)) return [...l, ...list(r)];
            return typeof l === "number" && typeof r === "number" ? l + r : typeof l === "string" || typeof r === "string" ? str(l) + str(r) : num(l) + num(r);
          case "-":
            return num(l) - num(r);
          case "*":
            return num(l) * num(r);
          case "/":
            return num(r) === 0 ? null : num(l) / num(r);
        }
        return null;
      }
      case "call":
        return this.call(e.name, e.args, scope);
    }
  }

  /**
   * As vfilter resolves a called name: the built-in function first (`_SymbolRef.getFunction` asks the dispatcher
   * before the scope), so a LET of the same name never shadows it; then a LET definition.
   */
  private async call(name: string, argList: Arg[], scope: Scope): Promise<Value> {
    const user = FUNCTIONS[name] ? undefined : asLet(scope.get(name));
    if (user) {
      const { named } = await this.args(argList, scope);
      const local = scope.child(named);
      if (user.kind === "expr") return this.expr(user.expr, local);
      if (user.kind === "query") return this.collect(user.query, local);
      return user.value;
    }
    const fn = FUNCTIONS[name];
    if (!fn) {
      if (PLUGINS[name]) return this.collectPlugin(name, argList, scope);
      this.ctx.log(`Function ${name} not found`);
      return null;
    }
    const { named, positional } = await this.args(argList, scope);
    if (!this.checkArgs(name, fn.args, named)) return null;
    if (!requirePerm(name, fn.perm, this.ctx)) return null;
    return fn.call(named, this.ctx, positional);
  }

  private async collectPlugin(name: string, argList: Arg[], scope: Scope): Promise<Row[]> {
    const out: Row[] = [];
    for await (const r of this.plugin(name, argList, scope)) out.push(r);
    return out;
  }

  /** Built-in plugins first, then LET definitions (vfilter `Plugin.resolveSymbol`). */
  private async *plugin(name: string, argList: Arg[], scope: Scope): AsyncGenerator<Row> {
    const user = PLUGINS[name] ? undefined : asLet(scope.get(name));
    if (user) {
      const { named } = await this.args(argList, scope);
      if (user.kind === "query") yield* this.select(user.query, scope.child(named));
      return;
    }
    if (name.startsWith("Artifact.")) {
      yield* this.artifactPlugin(name.slice("Artifact.".length), argList, scope);
      return;
    }
    const p = PLUGINS[name];
    if (!p) {
      this.ctx.log(`Plugin ${name} not found`);
      return;
    }
    const { named } = await this.args(argList, scope);
    if (!this.checkArgs(name, p.args, named)) return;
    if (!requirePerm(name, p.perm, this.ctx)) return;
    let n = 0;
    for await (const row of p.run(named, this.ctx) as AsyncIterable<Row>) {
      if (this.ctx.signal.aborted) return;
      // Let timers (query timeout, max_wait) and cancellation run during long scans.
      if (++n % 2048 === 0) await new Promise((r) => setImmediate(r));
      yield row;
    }
  }

  private async *artifactPlugin(name: string, argList: Arg[], scope: Scope): AsyncGenerator<Row> {
    const art = this.ctx.model.artifacts.get(name);
    if (!art) {
      this.ctx.log(`Artifact ${name} not found`);
      return;
    }
    const { named } = await this.args(argList, scope);
    for (const k of Object.keys(named))
      if (!art.parameters.some((p) => p.name === k) && k !== "source") {
        this.ctx.log(`${name}: Unexpected arg ${k}`);
        return;
      }
    const perm = art.type === "server" ? "COLLECT_SERVER" : "COLLECT_CLIENT";
    if (!requirePerm(`Artifact.${name}`, perm, this.ctx)) return;
    for (const rows of Object.values(this.ctx.model.sampleResults(art, art.type === "server" ? "server" : "any"))) yield* rows;
  }

  async collect(q: SelectStatement, scope: Scope): Promise<Row[]> {
    const out: Row[] = [];
    for await (const r of this.select(q, scope)) out.push(r);
    return out;
  }

  private async *source(q: SelectStatement, scope: Scope): AsyncGenerator<Row> {
    if (!q.from) {
      yield {};
      return;
    }
    if (q.from.kind === "plugin") yield* this.plugin(q.from.name, q.from.args, scope);
    else if (q.from.kind === "subquery") yield* this.select(q.from.query, scope);
    else {
      const v = scope.get(q.from.name);
      const def = asLet(v);
      if (def?.kind === "query") yield* this.select(def.query, scope);
      else if (def?.kind === "value") yield* list(def.value) as Row[];
      else if (Array.isArray(v)) yield* v as Row[];
      else if (v && typeof v === "object") yield v as Row;
      else this.ctx.log(`Symbol ${q.from.name} not found`);
    }
  }

  private async project(q: SelectStatement, row: Row, scope: Scope): Promise<Row> {
    const onlyStar = q.columns.length === 1 && !q.columns[0]!.expr;
    if (onlyStar) return row;
    const out: Row = {};
    const rowScope = scope.child(row);
    for (const c of q.columns) {
      if (!c.expr) {
        Object.assign(out, row);
        continue;
      }
      const v = await this.expr(c.expr, rowScope);
      const name = c.alias ?? exprName(c.expr);
      out[name] = v === undefined ? null : v;
      rowScope.set(name, v);
    }
    return out;
  }

  async *select(q: SelectStatement, scope: Scope): AsyncGenerator<Row> {
    let emitted = 0;
    const limit = q.limit ?? Infinity;
    if (limit <= 0) return;
    if (q.groupBy || q.orderBy) {
      const rows: { row: Row; projected: Row }[] = [];
      const groups = new Map<string, Row[]>();
      for await (const row of this.source(q, scope)) {
        if (q.where && !truthy(await this.expr(q.where, scope.child(row)))) continue;
        if (q.groupBy) {
          const key = JSON.stringify(await Promise.all(q.groupBy.map((g) => this.expr(g, scope.child(row)))));
          const g = groups.get(key) ?? [];
          g.push(row);
          groups.set(key, g);
        } else rows.push({ row, projected: await this.project(q, row, scope) });
      }
      if (q.groupBy) {
        for (const g of groups.values()) {
          const saved = this.ctx.group;
          this.ctx.group = g;
          rows.push({ row: g[g.length - 1]!, projected: await this.project(q, g[g.length - 1]!, scope) });
          this.ctx.group = saved;
        }
      }
      if (q.orderBy) {
        const keyed = await Promise.all(rows.map(async (r) => ({ r, k: await this.expr(q.orderBy!.expr, scope.child({ ...r.row, ...r.projected })) })));
        keyed.sort((a, b) => {
          const x = a.k as number | string;
          const y = b.k as number | string;
          const c = typeof x === "number" && typeof y === "number" ? x - y : str(x).localeCompare(str(y));
          return q.orderBy!.desc ? -c : c;
        });
        rows.splice(0, rows.length, ...keyed.map((k) => k.r));
      }
      for (const r of rows) {
        if (emitted++ >= limit) return;
        yield r.projected;
      }
      return;
    }
    for await (const row of this.source(q, scope)) {
      if (this.ctx.signal.aborted) return;
      if (q.where && !truthy(await this.expr(q.where, scope.child(row)))) continue;
      yield await this.project(q, row, scope);
      if (++emitted >= limit) return;
    }
  }

  /**
   * `SELECT * FROM source(client_id=…, flow_id=…, artifact=…[, source=…, start_row=…, count=…])` over a generated
   * result, when the model sends those directly (Model#directSource) or keeps it in its result store: that result and
   * the rows to send, or undefined to run the statement row by row. Only when the row-by-row run would neither log nor
   * refuse (known args that are literals or bound names, READ_RESULTS held, the flow and its result found), so both
   * give the same messages. A LIMIT is taken as a count.
   */
  async directSource(st: Statement, scope: Scope): Promise<{ result: GeneratedRows; start: number; count: number } | undefined> {
    if (st.kind !== "select" || st.where || st.groupBy || st.orderBy) return undefined;
    if (st.columns.length !== 1 || st.columns[0]!.expr || st.from?.kind !== "plugin" || st.from.name !== "source" || asLet(scope.get("source"))) return undefined;
    if (!st.from.args.every((a) => a.name && (a.value.kind === "literal" || (a.value.kind === "ident" && scope.has(a.value.name) && !asLet(scope.get(a.value.name)))))) return undefined;
    const { named: a } = await this.args(st.from.args, scope);
    const p = PLUGINS.source!;
    if (!Object.keys(a).every((k) => (p.args as string[]).includes(k)) || a.hunt_id || !this.ctx.permissions.has("READ_RESULTS")) return undefined;
    const f = findFlow(this.ctx, str(a.client_id), str(a.flow_id));
    if (!f) return undefined;
    const keys = Object.keys(f.results);
    const artifact = str(a.artifact) || undefined;
    const key = !artifact ? keys[0] : str(a.source) ? `${artifact}/${str(a.source)}` : artifact;
    const result = key !== undefined && key in f.results ? f.results[key] : undefined;
    if (!result || Array.isArray(result) || !(this.ctx.model.directSource || this.ctx.model.results.has(result))) return undefined;
    // LIMIT without WHERE keeps the source's first rows: the same rows and batches as count= (select() stops there).
    const count = a.count === undefined || a.count === null ? Infinity : num(a.count);
    return { result, start: num(a.start_row), count: Math.min(count, st.limit ?? Infinity) };
  }

  /** Runs one statement: LET binds (no rows); SELECT streams rows. */
  async *statement(st: Statement, scope: Scope): AsyncGenerator<Row> {
    if (st.kind === "let") {
      if (st.params) scope.set(st.name, letDef(st.value.kind === "select" ? { kind: "query", query: st.value, params: st.params } : { kind: "expr", expr: st.value, params: st.params }));
      else if (st.value.kind === "select") {
        scope.set(st.name, st.materialized ? letDef({ kind: "value", value: await this.collect(st.value, scope) }) : letDef({ kind: "query", query: st.value }));
      } else scope.set(st.name, letDef({ kind: "value", value: await this.expr(st.value, scope) }));
      return;
    }
    yield* this.select(st, scope);
  }
}
