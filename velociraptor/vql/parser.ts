/**
 * Recursive-descent VQL parser. It never throws on bad input: `parseVql` returns the statements it could read and
 * every syntax error with line and column, so validators and the test server can report them as Velociraptor does.
 */
import {
  VqlSyntaxError,
  type Arg,
  type BinaryOp,
  type Expr,
  type FromSource,
  type LetStatement,
  type SelectColumn,
  type SelectStatement,
  type Statement,
} from "./ast.js";
import { tokenize, unquoteIdent, type Token } from "./lexer.js";
import { deepFreeze, Lru } from "./memo.js";

export interface ParseResult {
  statements: Statement[];
  errors: VqlSyntaxError[];
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (t.type !== "eof") this.i++;
    return t;
  }
  private isKw(kw: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === "keyword" && t.value === kw;
  }
  private isOp(op: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === "op" && t.value === op;
  }
  private fail(message: string, t: Token = this.peek()): never {
    throw new VqlSyntaxError(`${message}${t.type === "eof" ? " (end of query)" : ` near '${t.value}'`}`, t.pos.line, t.pos.column);
  }
  private expectKw(kw: string): Token {
    if (!this.isKw(kw)) this.fail(`expected ${kw}`);
    return this.next();
  }
  private expectOp(op: string): Token {
    if (!this.isOp(op)) this.fail(`expected '${op}'`);
    return this.next();
  }
  private ident(what: string): Token {
    const t = this.peek();
    if (t.type !== "ident") this.fail(`expected ${what}`);
    return this.next();
  }
  /** A LET name, LET parameter or argument name: vfilter decodes Go escapes in backtick-quoted ones (Unquote_ident). */
  private bindingName(what: string): string {
    const t = this.ident(what);
    return t.quoted ? unquoteIdent(t.value) : t.value;
  }

  atEnd(): boolean {
    while (this.isOp(";")) this.next();
    return this.peek().type === "eof";
  }

  /** After an error, skip to the next statement start so later statements still parse. */
  recover(): void {
    this.next();
    while (this.peek().type !== "eof" && !this.isKw("SELECT") && !this.isKw("LET")) this.next();
  }

  statement(): Statement {
    if (this.isKw("LET")) return this.letStatement();
    if (this.isKw("SELECT")) return this.select();
    return this.fail("expected SELECT or LET");
  }

  private letStatement(): LetStatement {
    const start = this.expectKw("LET");
    const name = this.bindingName("a variable name after LET");
    let params: string[] | undefined;
    let defaults: Arg[] | undefined;
    if (this.isOp("(")) {
      this.next();
      params = [];
      while (!this.isOp(")")) {
        const pos = this.peek().pos;
        params.push(this.bindingName("a parameter name"));
        // A parameter with a default value: LET f(a, b=200) = …
        if (this.isOp("=")) {
          this.next();
          (defaults ??= []).push({ name: params[params.length - 1], value: this.expr(), pos });
        }
        if (!this.isOp(")")) this.expectOp(",");
      }
      this.next();
    }
    let materialized = false;
    if (this.isOp("<=")) {
      this.next();
      materialized = true;
    } else this.expectOp("=");
    const value = this.isKw("SELECT") ? this.select() : this.expr();
    return { kind: "let", name, params, defaults, value, materialized, pos: start.pos };
  }

  select(): SelectStatement {
    const start = this.expectKw("SELECT");
    const columns: SelectColumn[] = [];
    // vfilter: `SELECT *` may be followed by more columns, with or without a comma (`SELECT * Name, Size`).
    if (this.isOp("*")) {
      columns.push({ pos: this.next().pos });
      if (this.isOp(",")) this.next();
    }
    if (!columns.length || !this.isKw("FROM")) {
      do {
        if (columns.length && this.isOp(",")) this.next();
        const pos = this.peek().pos;
        if (this.isOp("*")) {
          this.next();
          columns.push({ pos });
          continue;
        }
        const expr = this.expr();
        let alias: string | undefined;
        if (this.isKw("AS")) {
          this.next();
          alias = this.bindingName("a column name after AS");
        }
        columns.push({ expr, alias, pos });
      } while (this.isOp(","));
    }
    const stmt: SelectStatement = { kind: "select", columns, pos: start.pos };
    if (this.isKw("FROM")) {
      this.next();
      stmt.from = this.fromSource();
    }
    if (this.isKw("WHERE")) {
      this.next();
      // vfilter's WHERE is a comma expression: `WHERE log(…), log(…)` evaluates both.
      const first = this.expr();
      if (this.isOp(",")) {
        const items = [first];
        while (this.isOp(",")) {
          this.next();
          items.push(this.expr());
        }
        stmt.where = { kind: "list", items, pos: first.pos };
      } else stmt.where = first;
    }
    if (this.isKw("GROUP")) {
      this.next();
      this.expectKw("BY");
      stmt.groupBy = [this.expr()];
      while (this.isOp(",")) {
        this.next();
        stmt.groupBy.push(this.expr());
      }
    }
    if (this.isKw("ORDER")) {
      this.next();
      this.expectKw("BY");
      const expr = this.expr();
      let desc = false;
      if (this.isKw("DESC")) {
        this.next();
        desc = true;
      }
      stmt.orderBy = { expr, desc };
    }
    if (this.isKw("LIMIT")) {
      this.next();
      const t = this.next();
      if (t.type !== "number") this.fail("expected a number after LIMIT", t);
      stmt.limit = Number(t.value);
    }
    return stmt;
  }

  private fromSource(): FromSource {
    const pos = this.peek().pos;
    if (this.isOp("(")) {
      this.next();
      const query = this.select();
      this.expectOp(")");
      return { kind: "subquery", query, pos };
    }
    const path = [this.ident("a plugin or variable after FROM").value];
    while (this.isOp(".")) {
      this.next();
      path.push(this.ident("a name after '.'").value);
    }
    const name = path.join(".");
    if (this.isOp("(")) return { kind: "plugin", name, path, args: this.args(), pos };
    return { kind: "variable", name, path, pos };
  }

  private args(): Arg[] {
    this.expectOp("(");
    const args: Arg[] = [];
    while (!this.isOp(")")) {
      const pos = this.peek().pos;
      if (this.peek().type === "ident" && this.isOp("=", 1)) {
        const name = this.bindingName("an argument name");
        this.next();
        args.push({ name, value: this.isKw("SELECT") ? { kind: "subquery", query: this.select(), pos } : this.expr(), pos });
      } else {
        args.push({ value: this.isKw("SELECT") ? { kind: "subquery", query: this.select(), pos } : this.expr(), pos });
      }
      if (!this.isOp(")")) this.expectOp(",");
    }
    this.next();
    return args;
  }

  expr(): Expr {
    return this.or();
  }

  lambda(): { params: string[]; body: Expr } {
    const params = [this.ident("a lambda parameter").value];
    while (this.isOp(",")) {
      this.next();
      params.push(this.ident("a lambda parameter").value);
    }
    this.expectOp("=>");
    const body = this.expr();
    if (!this.atEnd()) this.fail("unexpected text after the lambda");
    return { params, body };
  }

  private or(): Expr {
    let left = this.and();
    while (this.isKw("OR")) {
      const t = this.next();
      left = { kind: "binary", op: "OR", left, right: this.and(), pos: t.pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isKw("AND")) {
      const t = this.next();
      left = { kind: "binary", op: "AND", left, right: this.not(), pos: t.pos };
    }
    return left;
  }

  private not(): Expr {
    if (this.isKw("NOT")) {
      const t = this.next();
      return { kind: "unary", op: "NOT", operand: this.not(), pos: t.pos };
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const left = this.additive();
    const t = this.peek();
    const ops = ["=", "!=", "<", "<=", ">", ">=", "=~"];
    if ((t.type === "op" && ops.includes(t.value)) || this.isKw("IN")) {
      this.next();
      return { kind: "binary", op: t.value as BinaryOp, left, right: this.additive(), pos: t.pos };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isOp("+") || this.isOp("-")) {
      const t = this.next();
      left = { kind: "binary", op: t.value as BinaryOp, left, right: this.multiplicative(), pos: t.pos };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isOp("*") || this.isOp("/")) {
      const t = this.next();
      left = { kind: "binary", op: t.value as BinaryOp, left, right: this.unary(), pos: t.pos };
    }
    return left;
  }

  private unary(): Expr {
    if (this.isOp("-")) {
      const t = this.next();
      return { kind: "unary", op: "-", operand: this.unary(), pos: t.pos };
    }
    return this.postfix(this.primary());
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      if (this.isOp(".")) {
        this.next();
        const t = this.next();
        if (t.type !== "ident" && t.type !== "keyword") this.fail("expected a field name after '.'", t);
        // A dotted call like Artifact.Generic.Client.Info() is one symbol.
        if (this.isOp("(")) {
          const path = [...(dottedPath(e) ?? this.fail("cannot call a computed value", t)), t.value];
          e = { kind: "call", name: path.join("."), path, args: this.args(), pos: e.pos };
        } else e = { kind: "member", object: e, property: t.value, pos: e.pos };
      } else if (this.isOp("[")) {
        this.next();
        // x[i], and vfilter's slices x[a:b], x[:b], x[a:] (the bounds are walked like any expression).
        const from = this.isOp(":") ? undefined : this.expr();
        let index: Expr = from ?? { kind: "literal", value: null, pos: this.peek().pos };
        if (this.isOp(":")) {
          this.next();
          const to = this.isOp("]") ? undefined : this.expr();
          index = { kind: "list", items: [index, ...(to ? [to] : [])], pos: index.pos };
        }
        this.expectOp("]");
        e = { kind: "index", object: e, index, pos: e.pos };
      } else return e;
    }
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.type === "number") {
      this.next();
      return { kind: "literal", value: Number(t.value), pos: t.pos };
    }
    if (t.type === "string") {
      this.next();
      return { kind: "literal", value: t.value, pos: t.pos };
    }
    if (t.type === "keyword" && (t.value === "TRUE" || t.value === "FALSE" || t.value === "NULL")) {
      this.next();
      return { kind: "literal", value: t.value === "NULL" ? null : t.value === "TRUE", pos: t.pos };
    }
    if (this.isOp("(")) {
      this.next();
      if (this.isKw("SELECT")) {
        const query = this.select();
        this.expectOp(")");
        return { kind: "subquery", query, pos: t.pos };
      }
      const e = this.expr();
      // vfilter's comma expression: (a, b, c) is a list.
      if (this.isOp(",")) {
        const items = [e];
        while (this.isOp(",")) {
          this.next();
          if (this.isOp(")")) break;
          items.push(this.expr());
        }
        this.expectOp(")");
        return { kind: "list", items, pos: t.pos };
      }
      this.expectOp(")");
      return e;
    }
    if (this.isOp("[")) {
      this.next();
      const items: Expr[] = [];
      while (!this.isOp("]")) {
        items.push(this.expr());
        if (!this.isOp("]")) this.expectOp(",");
      }
      this.next();
      return { kind: "list", items, pos: t.pos };
    }
    if (this.isOp("{")) {
      this.next();
      const query = this.select();
      this.expectOp("}");
      return { kind: "subquery", query, pos: t.pos };
    }
    if (t.type === "ident") {
      this.next();
      if (this.isOp("=>")) {
        this.next();
        return { kind: "lambda", params: [t.value], body: this.expr(), pos: t.pos };
      }
      if (this.isOp("(")) return { kind: "call", name: t.value, path: [t.value], args: this.args(), pos: t.pos };
      return { kind: "ident", name: t.value, pos: t.pos };
    }
    return this.fail("expected an expression");
  }
}

function dottedPath(e: Expr): string[] | undefined {
  if (e.kind === "ident") return [e.name];
  if (e.kind === "member") {
    const base = dottedPath(e.object);
    return base === undefined ? undefined : [...base, e.property];
  }
  return undefined;
}

// A parse depends on the text alone; 256 queries or 4 M characters of text, whichever is reached first.
const parses = new Lru<ParseResult>(256, 4_000_000);

/**
 * Parses VQL text with any number of statements. The result is shared with every later call for the same text
 * (./memo.ts), so it is frozen: copy it to change it.
 */
export function parseVql(text: string): ParseResult {
  const hit = parses.get(text);
  if (hit) return hit;
  const parsed = deepFreeze(parseVqlFresh(text));
  parses.set(text, parsed);
  return parsed;
}

/** parseVql without the memo (tests compare the two). */
export function parseVqlFresh(text: string): ParseResult {
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (err) {
    if (err instanceof VqlSyntaxError) return { statements: [], errors: [err] };
    throw err;
  }
  const p = new Parser(tokens);
  const statements: Statement[] = [];
  const errors: VqlSyntaxError[] = [];
  while (!p.atEnd()) {
    try {
      statements.push(p.statement());
    } catch (err) {
      if (!(err instanceof VqlSyntaxError)) throw err;
      errors.push(err);
      p.recover();
    }
  }
  if (!statements.length && !errors.length) errors.push(new VqlSyntaxError("empty query", 1, 1));
  return { statements, errors };
}

/**
 * Parses a VQL lambda as vfilter's ParseLambda does for string arguments (`"x => x.Size > 10"`, `"a, b => a + b"`):
 * a parameter list, `=>`, an expression. Comments are skipped as in the query text.
 */
export function parseLambda(text: string): { params: string[]; body: Expr } {
  const p = new Parser(tokenize(text));
  return p.lambda();
}

/** Parses one expression (used for argument values and tests). */
export function parseExpression(text: string): Expr {
  const p = new Parser(tokenize(text));
  const e = p.expr();
  if (!p.atEnd()) throw new VqlSyntaxError("unexpected text after expression", 1, 1);
  return e;
}
