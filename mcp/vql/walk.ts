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
      if (st.value.kind === "select") select(st.value, locals);
      else expr(st.value, locals);
    } else select(st, new Set());
  }
  return refs;
}
