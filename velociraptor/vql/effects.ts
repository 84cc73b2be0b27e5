/**
 * The effect classifier: what a VQL text can do when Velociraptor runs it, decided from the text alone.
 *
 * It follows vfilter's rules for what runs (Www-Velocidex/vfilter vfilter.go):
 * - statements run in order and every one is classified — a LET never hides a call, wherever it stands;
 * - a called single name is the built-in function or plugin when one exists (`_SymbolRef.getFunction` and
 *   `Plugin.resolveSymbol` ask the dispatcher before the scope), so `LET label = 1` does not shadow `label(…)`; only a
 *   name that is no built-in resolves to a LET definition, whose body is classified where it is defined;
 * - a dotted call resolves through scope variables: only `Artifact.X.Y(…)` is statically known (it runs artifact
 *   X.Y); any other dotted call, and the `Artifact` runner or a `$`-variable named as a value, could run an artifact
 *   no text names, so they count as respond;
 * - lambdas passed as strings (`condition="x=>label(…)"`) are parsed and their calls classified; a lambda that is not
 *   literal text, or that does not parse, counts as respond;
 * - names are case-sensitive (`LABEL(…)` is no built-in: an unknown call).
 *
 * The result over-approximates: a LET body that is never used is still classified, and anything unknown counts as
 * respond. Which artifacts a collection runs is extracted when the names are literal, or env values at a top-level
 * `SELECT … FROM scope()`; otherwise the use is marked not determinable.
 */
import type { Arg, Expr, SelectStatement, Statement } from "./ast.js";
import { VQL_ACCESSORS, VQL_BUILTINS } from "./builtins.js";
import { deepFreeze, Lru } from "./memo.js";
import { parseLambda, parseVql } from "./parser.js";
import { ARTIFACT_RUNNER, DYNAMIC_CODE, FILE_READERS, INVESTIGATE_CALLS, LAMBDA_ARGS, READ_FUNCTIONS, READ_ONLY_ACCESSORS, READ_PLUGINS } from "./policy.js";

export type Effect = "read" | "investigate" | "respond";
const RANK: Record<Effect, number> = { read: 0, investigate: 1, respond: 2 };
export function maxEffect(...effects: Effect[]): Effect {
  return effects.reduce<Effect>((a, b) => (RANK[b] > RANK[a] ? b : a), "read");
}

export interface CallEffect {
  /** The call as written (dotted path joined), or the variable named. */
  name: string;
  kind: "function" | "plugin" | "artifact" | "value" | "lambda";
  effect: Effect;
  reason: string;
  line: number;
  column: number;
}

/** A place where the query makes Velociraptor run artifacts (collect them, hunt them, or run them inline). */
export interface ArtifactUse {
  via: string;
  /** Artifact names (as given, possibly `Name/Source`) when determinable. */
  names: string[];
  /** False when some names cannot be read from the text (variables, expressions): the use must be refused. */
  determinable: boolean;
  /** Hunts whose artifacts this starts or extends (hunt_update start, hunt_add), when their ids are literal. */
  huntIds: string[];
  /** Collected on the server itself (client_id 'server'): server artifacts need COLLECT_SERVER. */
  onServer: boolean;
  line: number;
  column: number;
}

export interface VqlClassification {
  ok: boolean;
  errors: { message: string; line: number; column: number }[];
  /** The highest effect of all calls (read when there are none). */
  effect: Effect;
  calls: CallEffect[];
  artifacts: ArtifactUse[];
  /** Calls that run VQL not in the text (query(), eval, …): what they collect cannot be known. */
  dynamicCode: string[];
}

type Env = Readonly<Record<string, unknown>>;

interface Ctx {
  /** Names bound locally (LET parameters, lambda parameters): a call to them runs what the caller passed in. */
  locals: Set<string>;
  /** A top-level `SELECT … FROM scope()` (not in a LET body, sub-query or lambda): bare names there are env values. */
  envScope: boolean;
}

const isBuiltin = (name: string) => Object.hasOwn(VQL_BUILTINS, name);

function permissionsOf(name: string): string {
  const p = VQL_BUILTINS[name]?.permissions ?? [];
  return p.length ? `declares ${p.join(" or ")}` : "declares no permission and is not known to be read-only";
}

// 512 verdicts or 8 M characters of keys (query text and env), whichever is reached first.
const verdicts = new Lru<VqlClassification>(512, 8_000_000);

/**
 * The memo key: everything classifyVqlFresh reads besides the constant tables of ./policy.ts and ./builtins.ts —
 * the text and each env value by name, with its type (JSON keeps "1", 1 and true apart). Only an env of own data
 * properties holding strings, booleans or finite numbers other than -0 has a key: JSON would blur anything else
 * (undefined, NaN, -0, objects whose getters could answer differently next time), so such an env is classified
 * afresh every time. Mode and org are not inputs of the classifier: judgeVql applies them to the verdict per call.
 */
function verdictKey(text: string, env: Env): string | undefined {
  const proto = Object.getPrototypeOf(env) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  const entries: [string, unknown][] = [];
  for (const name of Object.getOwnPropertyNames(env)) {
    const d = Object.getOwnPropertyDescriptor(env, name)!;
    if (!("value" in d)) return undefined;
    const v: unknown = d.value;
    if (!(typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v) && !Object.is(v, -0)))) return undefined;
    entries.push([name, v]);
  }
  if (Object.getOwnPropertySymbols(env).length) return undefined;
  return JSON.stringify([text, entries]);
}

/**
 * Classifies a VQL text (with the env values it will run with). The verdict is shared with every later call for the
 * same text and env (./memo.ts), so it is frozen: copy it to change it.
 */
export function classifyVql(text: string, opts: { env?: Env } = {}): VqlClassification {
  const env = opts.env ?? {};
  const key = verdictKey(text, env);
  const hit = key === undefined ? undefined : verdicts.get(key);
  if (hit) return hit;
  const verdict = deepFreeze(classifyVqlFresh(text, { env }));
  if (key !== undefined) verdicts.set(key, verdict);
  return verdict;
}

/** classifyVql without the memo (tests compare the two). */
export function classifyVqlFresh(text: string, opts: { env?: Env } = {}): VqlClassification {
  const parsed = parseVql(text);
  const errors = parsed.errors.map((e) => ({ message: e.message, line: e.line, column: e.column }));
  const c = new Classifier(parsed.statements, opts.env ?? {});
  if (!errors.length) c.run();
  return { ok: errors.length === 0, errors, effect: maxEffect(...c.calls.map((x) => x.effect)), calls: c.calls, artifacts: c.artifacts, dynamicCode: [...new Set(c.dynamic)] };
}

class Classifier {
  readonly calls: CallEffect[] = [];
  readonly artifacts: ArtifactUse[] = [];
  readonly dynamic: string[] = [];
  private readonly lets = new Set<string>();
  private readonly aliases = new Set<string>();

  constructor(
    private readonly statements: Statement[],
    private readonly env: Env,
  ) {}

  run(): void {
    for (const st of this.statements) if (st.kind === "let") this.lets.add(st.name);
    for (const st of this.statements) this.collectAliases(st.kind === "let" ? st.value : st);
    for (const st of this.statements) {
      if (st.kind === "let") {
        const ctx: Ctx = { locals: new Set(st.params ?? []), envScope: false };
        for (const d of st.defaults ?? []) this.expr(d.value, ctx);
        if (st.value.kind === "select") this.select(st.value, ctx);
        else this.expr(st.value, ctx);
      } else {
        const fromScope = !st.from || (st.from.kind === "plugin" && st.from.name === "scope" && st.from.args.length === 0);
        this.select(st, { locals: new Set(), envScope: fromScope });
      }
    }
  }

  private note(e: Omit<CallEffect, "line" | "column">, pos: { line: number; column: number }): void {
    this.calls.push({ ...e, line: pos.line, column: pos.column });
  }

  /** Column aliases shadow env values of the same name (vfilter appends the row being built to the scope). */
  private collectAliases(v: SelectStatement | Expr): void {
    const visit = (node: unknown): void => {
      if (!node || typeof node !== "object") return;
      if (Array.isArray(node)) return node.forEach(visit);
      const n = node as Record<string, unknown>;
      if (n.kind === "select") for (const col of n.columns as { alias?: string }[]) if (col.alias) this.aliases.add(col.alias);
      for (const k of Object.keys(n)) if (k !== "pos") visit(n[k]);
    };
    visit(v);
  }

  private select(s: SelectStatement, ctx: Ctx): void {
    const inner: Ctx = { locals: ctx.locals, envScope: false };
    if (s.from?.kind === "plugin") this.call(s.from.path, s.from.args, "plugin", s.from.pos, ctx);
    else if (s.from?.kind === "variable") this.reference(s.from.path, s.from.pos, ctx);
    else if (s.from?.kind === "subquery") this.select(s.from.query, inner);
    for (const col of s.columns) if (col.expr) this.expr(col.expr, ctx);
    if (s.where) this.expr(s.where, ctx);
    s.groupBy?.forEach((g) => this.expr(g, ctx));
    if (s.orderBy) this.expr(s.orderBy.expr, ctx);
  }

  private expr(e: Expr, ctx: Ctx): void {
    switch (e.kind) {
      case "literal":
        return;
      case "ident":
      case "member": {
        const path = memberPath(e);
        if (path) return this.reference(path, e.pos, ctx);
        if (e.kind === "member") return this.expr(e.object, ctx);
        return;
      }
      case "index":
        this.expr(e.object, ctx);
        return this.expr(e.index, ctx);
      case "call":
        return this.call(e.path, e.args, "function", e.pos, ctx);
      case "unary":
        return this.expr(e.operand, ctx);
      case "binary":
        this.expr(e.left, ctx);
        return this.expr(e.right, ctx);
      case "list":
        return e.items.forEach((i) => this.expr(i, ctx));
      case "subquery":
        return this.select(e.query, { locals: ctx.locals, envScope: false });
      case "lambda":
        return this.expr(e.body, { locals: new Set([...ctx.locals, ...e.params]), envScope: false });
    }
  }

  /** A variable (or member chain) used as a value. */
  private reference(path: string[], pos: { line: number; column: number }, ctx: Ctx): void {
    const root = path[0]!;
    if (ctx.locals.has(root)) return;
    if (root === ARTIFACT_RUNNER) {
      this.note({ name: path.join("."), kind: "value", effect: "respond", reason: "the Artifact runner used as a value: whatever receives it can run any artifact" }, pos);
      this.artifacts.push({ via: "Artifact (as a value)", names: [], determinable: false, huntIds: [], onServer: false, ...pos });
    } else if (root.startsWith("$"))
      this.note({ name: path.join("."), kind: "value", effect: "respond", reason: `${root} is one of Velociraptor's internal scope variables (the scope, the repository, the ACL manager…)` }, pos);
  }

  private call(path: string[], args: Arg[], kind: "function" | "plugin", pos: { line: number; column: number }, ctx: Ctx): void {
    const name = path.join(".");
    const argCtx: Ctx = { locals: ctx.locals, envScope: ctx.envScope };
    for (const a of args) this.expr(a.value, argCtx);
    this.lambdas(path.length === 1 ? path[0]! : "", args, ctx);

    if (path.length > 1) {
      if (path[0] === ARTIFACT_RUNNER && !ctx.locals.has(ARTIFACT_RUNNER)) {
        const artifact = path.slice(1).join(".");
        this.note({ name, kind: "artifact", effect: "investigate", reason: `runs artifact ${artifact} on the server (its effect comes from its definition)` }, pos);
        this.artifacts.push({ via: "Artifact", names: [artifact], determinable: true, huntIds: [], onServer: true, ...pos });
      } else {
        this.note({ name, kind, effect: "respond", reason: "a dotted call through a variable: what it runs cannot be read from the text" }, pos);
        this.artifacts.push({ via: name, names: [], determinable: false, huntIds: [], onServer: false, ...pos });
      }
      return;
    }

    if (!isBuiltin(name)) {
      if (this.lets.has(name) || ctx.locals.has(name))
        return this.note({ name, kind, effect: "read", reason: `calls the LET definition ${name}, classified where it is defined` }, pos);
      return this.note({ name, kind, effect: "respond", reason: `${name} is no Velociraptor ${kind} this classifier knows (names are case-sensitive): refused unless in respond mode` }, pos);
    }

    if (DYNAMIC_CODE.has(name)) this.dynamic.push(name);
    const effect = this.builtinEffect(name, kind, args, pos, ctx);
    this.note({ name, kind, ...effect }, pos);
  }

  private builtinEffect(name: string, kind: "function" | "plugin", args: Arg[], pos: { line: number; column: number }, ctx: Ctx): { effect: Effect; reason: string } {
    // scope() as a function returns the scope itself: every variable, the Artifact runner included.
    if (name === "scope" && kind === "function") return { effect: "respond", reason: "scope() as a value exposes every scope variable, including the Artifact runner" };
    // A built-in called as the other kind (a function name in FROM) never runs as that built-in, so either list counts.
    if (READ_PLUGINS.has(name) || READ_FUNCTIONS.has(name)) {
      if (FILE_READERS.has(name)) {
        const acc = lastArg(args, "accessor");
        if (acc) {
          const v = this.staticString(acc.value, ctx);
          if (v === undefined) return { effect: "respond", reason: `${name}: the accessor is not literal text, so what it reads (or reaches) is unknown` };
          if (!READ_ONLY_ACCESSORS.has(v))
            return { effect: "respond", reason: `${name}: accessor '${v}' is not a local read-only accessor${VQL_ACCESSORS[v]?.length ? ` (declares ${VQL_ACCESSORS[v]!.join(", ")})` : ""}` };
        }
      }
      return { effect: "read", reason: `${name} only reads` };
    }
    if (Object.hasOwn(INVESTIGATE_CALLS, name)) return this.investigateEffect(name, args, pos, ctx);
    this.monitoringUse(name, args, pos, ctx);
    return { effect: "respond", reason: `${name} ${permissionsOf(name)}` };
  }

  private investigateEffect(name: string, args: Arg[], pos: { line: number; column: number }, ctx: Ctx): { effect: Effect; reason: string } {
    const why = INVESTIGATE_CALLS[name]!;
    if (name === "collect_client") {
      const use = this.artifactNames(args, ctx, "collect_client", pos);
      const client = lastArg(args, "client_id");
      const id = client ? this.staticString(client.value, ctx) : undefined;
      use.onServer = id === "server";
      if (id === undefined) return { effect: "respond", reason: "collect_client: the client is not literal text or an env value, so it could be 'server' (COLLECT_SERVER)" };
      if (id === "server") return { effect: "respond", reason: "collect_client on 'server' runs server artifacts (COLLECT_SERVER)" };
      return { effect: "investigate", reason: why };
    }
    if (name === "hunt") {
      this.artifactNames(args, ctx, "hunt", pos);
      if (lastArg(args, "org_id")) return { effect: "respond", reason: "hunt across orgs needs ORG_ADMIN" };
      return { effect: "investigate", reason: why };
    }
    if (name === "hunt_update" || name === "hunt_add") {
      const start = lastArg(args, "start");
      if (name === "hunt_add" || (start && !(start.value.kind === "literal" && start.value.value === false))) {
        const id = lastArg(args, "hunt_id");
        const hunt = id ? this.staticString(id.value, ctx) : undefined;
        this.artifacts.push({ via: name, names: [], determinable: hunt !== undefined, huntIds: hunt ? [hunt] : [], onServer: false, ...pos });
      }
    }
    return { effect: "investigate", reason: why };
  }

  /** add_/set_…_monitoring and collect() make clients or the server run artifacts too. */
  private monitoringUse(name: string, args: Arg[], pos: { line: number; column: number }, ctx: Ctx): void {
    if (name === "add_client_monitoring" || name === "add_server_monitoring") {
      const a = lastArg(args, "artifact");
      const v = a ? this.staticString(a.value, ctx) : undefined;
      this.artifacts.push({ via: name, names: v ? [v] : [], determinable: v !== undefined, huntIds: [], onServer: name === "add_server_monitoring", ...pos });
    } else if (name === "set_client_monitoring" || name === "set_server_monitoring")
      this.artifacts.push({ via: name, names: [], determinable: false, huntIds: [], onServer: name === "set_server_monitoring", ...pos });
    else if (name === "collect") this.artifactNames(args, ctx, "collect", pos).onServer = true;
  }

  /** Artifact names from `artifacts=` and the keys of `spec=` (Velociraptor uses both). */
  private artifactNames(args: Arg[], ctx: Ctx, via: string, pos: { line: number; column: number }): ArtifactUse {
    const names: string[] = [];
    let determinable = true;
    const artifacts = lastArg(args, "artifacts");
    if (artifacts) {
      const list = this.staticStringList(artifacts.value, ctx);
      if (list) names.push(...list);
      else determinable = false;
    }
    const spec = lastArg(args, "spec");
    if (spec) {
      const keys = this.staticDictKeys(spec.value, ctx);
      if (keys) names.push(...keys);
      else determinable = false;
    }
    if (!artifacts && !spec) determinable = false;
    const use: ArtifactUse = { via, names: [...new Set(names)], determinable, huntIds: [], onServer: false, ...pos };
    this.artifacts.push(use);
    return use;
  }

  /** Parses string lambdas and classifies their calls; arguments declared as lambdas must be literal and parse. */
  private lambdas(name: string, args: Arg[], ctx: Ctx): void {
    const declared = LAMBDA_ARGS[name] ?? [];
    for (const a of args) {
      const isDeclared = !!a.name && declared.includes(a.name);
      if (a.value.kind === "literal" && typeof a.value.value === "string") {
        const text = a.value.value;
        if (!isDeclared && !text.includes("=>")) continue;
        let lambda: ReturnType<typeof parseLambda> | undefined;
        try {
          lambda = parseLambda(text);
        } catch {
          lambda = undefined;
        }
        if (lambda) this.expr(lambda.body, { locals: new Set([...ctx.locals, ...lambda.params]), envScope: false });
        else if (isDeclared) this.note({ name: `${name}(${a.name}=…)`, kind: "lambda", effect: "respond", reason: `${name}: the ${a.name} lambda does not parse here, so what it calls cannot be checked` }, a.pos);
      } else if (isDeclared && a.value.kind !== "lambda")
        this.note({ name: `${name}(${a.name}=…)`, kind: "lambda", effect: "respond", reason: `${name}: the ${a.name} lambda is not literal text, so what it calls cannot be checked` }, a.pos);
    }
  }

  /** An env value a bare name stands for, when nothing in the query can shadow it at this point. */
  private envValue(e: Expr, ctx: Ctx): unknown {
    if (e.kind !== "ident" || !ctx.envScope) return undefined;
    const n = e.name;
    if (this.lets.has(n) || this.aliases.has(n) || ctx.locals.has(n) || !Object.hasOwn(this.env, n)) return undefined;
    return this.env[n];
  }

  private staticString(e: Expr, ctx: Ctx): string | undefined {
    if (e.kind === "literal" && typeof e.value === "string") return e.value;
    const v = this.envValue(e, ctx);
    return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
  }

  /** A literal, a list of literals, an env value, or `parse_json(data=Env).items` / `parse_json_array(data=Env)`. */
  private staticStringList(e: Expr, ctx: Ctx): string[] | undefined {
    const one = this.staticString(e, ctx);
    if (one !== undefined) return [one];
    if (e.kind === "list") {
      const out = e.items.map((i) => this.staticString(i, ctx));
      return out.every((x): x is string => x !== undefined) ? out : undefined;
    }
    const json = this.jsonArg(e, ctx);
    if (json?.fn === "parse_json_array" && Array.isArray(json.value)) return json.value.every((x) => typeof x === "string") ? (json.value as string[]) : undefined;
    if (e.kind === "member" && e.property === "items" && e.object.kind === "call") {
      const inner = this.jsonArg(e.object, ctx);
      const items = inner?.fn === "parse_json" ? (inner.value as { items?: unknown } | undefined)?.items : undefined;
      if (Array.isArray(items) && items.every((x) => typeof x === "string")) return items as string[];
    }
    return undefined;
  }

  /** Keys of `dict(A=…, B=…)` or of `parse_json(data=Env)`. */
  private staticDictKeys(e: Expr, ctx: Ctx): string[] | undefined {
    if (e.kind === "call" && e.name === "dict" && e.path.length === 1) return e.args.every((a) => a.name) ? e.args.map((a) => a.name!) : undefined;
    const json = this.jsonArg(e, ctx);
    if (json?.fn === "parse_json" && json.value && typeof json.value === "object" && !Array.isArray(json.value)) return Object.keys(json.value);
    return undefined;
  }

  private jsonArg(e: Expr, ctx: Ctx): { fn: string; value: unknown } | undefined {
    if (e.kind !== "call" || e.path.length !== 1 || (e.name !== "parse_json" && e.name !== "parse_json_array")) return undefined;
    const data = lastArg(e.args, "data");
    const text = data ? this.staticString(data.value, ctx) : undefined;
    if (text === undefined) return undefined;
    try {
      return { fn: e.name, value: JSON.parse(text) as unknown };
    } catch {
      return undefined;
    }
  }
}

/** vfilter builds an argument dict: a repeated name keeps the last value. */
function lastArg(args: Arg[], name: string): Arg | undefined {
  for (let i = args.length - 1; i >= 0; i--) if (args[i]!.name === name) return args[i];
  return undefined;
}

function memberPath(e: Expr): string[] | undefined {
  if (e.kind === "ident") return [e.name];
  if (e.kind === "member") {
    const base = memberPath(e.object);
    return base ? [...base, e.property] : undefined;
  }
  return undefined;
}

/** The built-in facts this classifier relies on (for tests and `vql_help`). */
export function builtinPermissions(name: string): string[] | undefined {
  return VQL_BUILTINS[name]?.permissions;
}
