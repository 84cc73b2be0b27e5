/** AST walkers: what a query calls and reads. Used by validate_vql, the read-only check and the test server. */
import type { Arg, Expr, SelectStatement, Statement } from "./ast.js";

export interface References {
  plugins: Set<string>;
  functions: Set<string>;
  variables: Set<string>;
  /** Names used as `Artifact.X.Y(...)`, without the `Artifact.` prefix. */
  artifacts: Set<string>;
  /** Variables defined by LET. */
  defined: Set<string>;
}

export function references(statements: Statement[]): References {
  const refs: References = { plugins: new Set(), functions: new Set(), variables: new Set(), artifacts: new Set(), defined: new Set() };
  const args = (list: Arg[], locals: Set<string>) => list.forEach((a) => expr(a.value, locals));
  const expr = (e: Expr, locals: Set<string>): void => {
    switch (e.kind) {
      case "ident":
        if (!locals.has(e.name)) refs.variables.add(e.name);
        return;
      case "member":
        return expr(e.object, locals);
      case "index":
        expr(e.object, locals);
        return expr(e.index, locals);
      case "call":
        if (e.name.startsWith("Artifact.")) refs.artifacts.add(e.name.slice("Artifact.".length));
        else refs.functions.add(e.name);
        return args(e.args, locals);
      case "unary":
        return expr(e.operand, locals);
      case "binary":
        expr(e.left, locals);
        return expr(e.right, locals);
      case "list":
        return e.items.forEach((i) => expr(i, locals));
      case "subquery":
        return select(e.query, locals);
      case "lambda":
        return expr(e.body, new Set([...locals, ...e.params]));
      case "literal":
        return;
    }
  };
  const select = (s: SelectStatement, locals: Set<string>): void => {
    if (s.from?.kind === "plugin") {
      if (s.from.name.startsWith("Artifact.")) refs.artifacts.add(s.from.name.slice("Artifact.".length));
      else refs.plugins.add(s.from.name);
      args(s.from.args, locals);
    } else if (s.from?.kind === "variable") refs.variables.add(s.from.name);
    else if (s.from?.kind === "subquery") select(s.from.query, locals);
    for (const c of s.columns) if (c.expr) expr(c.expr, locals);
    if (s.where) expr(s.where, locals);
    s.groupBy?.forEach((g) => expr(g, locals));
    if (s.orderBy) expr(s.orderBy.expr, locals);
  };
  for (const st of statements) {
    if (st.kind === "let") {
      refs.defined.add(st.name);
      const locals = new Set(st.params ?? []);
      st.defaults?.forEach((d) => expr(d.value, locals));
      if (st.value.kind === "select") select(st.value, locals);
      else expr(st.value, locals);
    } else select(st, new Set());
  }
  return refs;
}

export interface CallSite {
  name: string;
  kind: "plugin" | "function";
  line: number;
  column: number;
  /** Named arguments passed. */
  args: string[];
}

/** Every plugin and function call with its position and argument names (for validation messages). */
export function callSites(statements: Statement[]): CallSite[] {
  const out: CallSite[] = [];
  const args = (list: Arg[]) => list.forEach((a) => expr(a.value));
  const expr = (e: Expr): void => {
    switch (e.kind) {
      case "call":
        out.push({ name: e.name, kind: "function", line: e.pos.line, column: e.pos.column, args: e.args.map((a) => a.name).filter((n): n is string => !!n) });
        return args(e.args);
      case "member":
        return expr(e.object);
      case "index":
        expr(e.object);
        return expr(e.index);
      case "unary":
        return expr(e.operand);
      case "binary":
        expr(e.left);
        return expr(e.right);
      case "list":
        return e.items.forEach(expr);
      case "subquery":
        return select(e.query);
      case "lambda":
        return expr(e.body);
      default:
        return;
    }
  };
  const select = (s: SelectStatement): void => {
    if (s.from?.kind === "plugin") {
      out.push({ name: s.from.name, kind: "plugin", line: s.from.pos.line, column: s.from.pos.column, args: s.from.args.map((a) => a.name).filter((n): n is string => !!n) });
      args(s.from.args);
    } else if (s.from?.kind === "subquery") select(s.from.query);
    for (const c of s.columns) if (c.expr) expr(c.expr);
    if (s.where) expr(s.where);
    s.groupBy?.forEach(expr);
    if (s.orderBy) expr(s.orderBy.expr);
  };
  for (const st of statements) {
    if (st.kind === "let") {
      st.defaults?.forEach((d) => expr(d.value));
      if (st.value.kind === "select") select(st.value);
      else expr(st.value);
    } else select(st);
  }
  return out;
}
