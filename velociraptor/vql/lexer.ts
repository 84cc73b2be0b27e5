/** VQL tokenizer: case-insensitive keywords, three string quotings, backtick identifiers and three comment styles. */
import { VqlSyntaxError, type Pos } from "./ast.js";

export type TokenType = "ident" | "keyword" | "string" | "number" | "op" | "eof";
export interface Token {
  type: TokenType;
  /** Keywords are upper-cased; identifiers keep their case; strings are unescaped. */
  value: string;
  pos: Pos;
}

export const KEYWORDS = new Set([
  "SELECT", "FROM", "WHERE", "LET", "AS", "AND", "OR", "NOT", "LIMIT", "ORDER", "GROUP", "BY", "DESC", "ASC", "TRUE",
  "FALSE", "NULL", "IN",
]);

const OPERATORS = [";", "<=", ">=", "!=", "=~", "==", "=>", "(", ")", "[", "]", "{", "}", ",", ".", "=", "<", ">", "+", "-", "*", "/", ":"];

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (): Pos => ({ line, column: i - lineStart + 1 });
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) {
      if (text[i] === "\n") {
        line++;
        lineStart = i + 1;
      }
      i++;
    }
  };

  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      advance(1);
      continue;
    }
    if (text.startsWith("//", i) || text.startsWith("--", i)) {
      while (i < text.length && text[i] !== "\n") advance(1);
      continue;
    }
    if (text.startsWith("/*", i)) {
      const start = pos();
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new VqlSyntaxError("unterminated /* comment", start.line, start.column);
      advance(end + 2 - i);
      continue;
    }
    const start = pos();
    if (text.startsWith("'''", i)) {
      const end = text.indexOf("'''", i + 3);
      if (end < 0) throw new VqlSyntaxError("unterminated ''' string", start.line, start.column);
      const value = text.slice(i + 3, end);
      advance(end + 3 - i);
      tokens.push({ type: "string", value, pos: start });
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let value = "";
      while (j < text.length && text[j] !== c) {
        if (text[j] === "\\" && j + 1 < text.length) {
          const n = text[j + 1]!;
          value += n === "n" ? "\n" : n === "t" ? "\t" : n === "r" ? "\r" : n;
          j += 2;
          continue;
        }
        value += text[j];
        j++;
      }
      if (j >= text.length) throw new VqlSyntaxError(`unterminated ${c} string`, start.line, start.column);
      advance(j + 1 - i);
      tokens.push({ type: "string", value, pos: start });
      continue;
    }
    if (c === "`") {
      const end = text.indexOf("`", i + 1);
      if (end < 0) throw new VqlSyntaxError("unterminated ` identifier", start.line, start.column);
      const value = text.slice(i + 1, end);
      advance(end + 1 - i);
      tokens.push({ type: "ident", value, pos: start });
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i, i + 64));
    if (num) {
      advance(num[0].length);
      tokens.push({ type: "number", value: num[0], pos: start });
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 256));
    if (id) {
      advance(id[0].length);
      const upper = id[0].toUpperCase();
      tokens.push(KEYWORDS.has(upper) ? { type: "keyword", value: upper, pos: start } : { type: "ident", value: id[0], pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      advance(op.length);
      tokens.push({ type: "op", value: op === "==" ? "=" : op, pos: start });
      continue;
    }
    throw new VqlSyntaxError(`unexpected character '${c}'`, start.line, start.column);
  }
  tokens.push({ type: "eof", value: "", pos: pos() });
  return tokens;
}
