/** The VQL syntax tree. Every node records where it starts so errors and validators can point at line:column. */
export interface Pos {
  line: number;
  column: number;
}

export type Expr =
  | { kind: "literal"; value: string | number | boolean | null; pos: Pos }
  | { kind: "ident"; name: string; pos: Pos }
  | { kind: "member"; object: Expr; property: string; pos: Pos }
  | { kind: "index"; object: Expr; index: Expr; pos: Pos }
  /**
   * `path` is the called symbol split as vfilter's utils.SplitIdent does (backticks removed, dots inside backticks
   * kept); `name` is the path joined with dots.
   */
  | { kind: "call"; name: string; path: string[]; args: Arg[]; pos: Pos }
  | { kind: "unary"; op: "-" | "NOT"; operand: Expr; pos: Pos }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr; pos: Pos }
  | { kind: "list"; items: Expr[]; pos: Pos }
  | { kind: "subquery"; query: SelectStatement; pos: Pos }
  | { kind: "lambda"; params: string[]; body: Expr; pos: Pos };

export type BinaryOp = "AND" | "OR" | "=" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "IN" | "+" | "-" | "*" | "/";

export interface Arg {
  /** Named argument (`name=value`); undefined for a positional one. */
  name?: string;
  value: Expr;
  pos: Pos;
}

export interface SelectColumn {
  /** undefined = `*` */
  expr?: Expr;
  alias?: string;
  pos: Pos;
}

export type FromSource =
  | { kind: "plugin"; name: string; path: string[]; args: Arg[]; pos: Pos }
  | { kind: "variable"; name: string; path: string[]; pos: Pos }
  | { kind: "subquery"; query: SelectStatement; pos: Pos };

export interface SelectStatement {
  kind: "select";
  columns: SelectColumn[];
  from?: FromSource;
  where?: Expr;
  groupBy?: Expr[];
  orderBy?: { expr: Expr; desc: boolean };
  limit?: number;
  pos: Pos;
}

export interface LetStatement {
  kind: "let";
  name: string;
  params?: string[];
  /** Default values of parameters (`LET f(a, b=200) = …`): evaluated when the caller omits them. */
  defaults?: Arg[];
  /** `LET x = SELECT ...` stores a (lazy) query; `LET x <= SELECT` materialises; otherwise an expression. */
  value: SelectStatement | Expr;
  materialized: boolean;
  pos: Pos;
}

export type Statement = SelectStatement | LetStatement;

export class VqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line}, column ${column}`);
    this.name = "VqlSyntaxError";
  }
}
