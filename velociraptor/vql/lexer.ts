/**
 * VQL tokenizer, faithful to vfilter's lexer (Www-Velocidex/vfilter vfilter.go `vqlLexer`, participle v2 simple
 * lexer: rules tried in order, each anchored at the current position). Fidelity matters because the safety
 * classifier must see the same calls the server will run: comments, quoting and escapes are decoded as vfilter does.
 *
 * - whitespace is Go's `\s` (space, \t, \n, \f, \r — not \v or Unicode spaces, which vfilter rejects);
 * - `/* … *\/`, and `--` or `//` to the end of the line, are comments wherever they start (the rule's `^` anchors at
 *   the current position, not at a line start);
 * - strings: `'''…'''` verbatim, `'…'` and `"…"` with vfilter's escapes (utils/unquote.go Unquote: \xHH bytes,
 *   \r \n \t, any other escaped character stands for itself);
 * - identifiers: `[A-Za-z_][A-Za-z0-9_]*` or any text in backticks; `|`/`||` is OR, `&&` is AND, `<>` is `!=`.
 */
import { VqlSyntaxError, type Pos } from "./ast.js";

export type TokenType = "ident" | "keyword" | "string" | "number" | "op" | "eof";
export interface Token {
  type: TokenType;
  /** Keywords are upper-cased; identifiers keep their case (backticks removed); strings are unescaped. */
  value: string;
  pos: Pos;
  /** A backtick-quoted identifier: vfilter applies Go escapes to it where it names a LET or an argument. */
  quoted?: boolean;
}

/** vfilter's keywords (case-insensitive). GROUP and ORDER are keywords only as `GROUP BY` / `ORDER BY` (one vfilter token). */
export const KEYWORDS = new Set(["SELECT", "FROM", "WHERE", "LET", "AS", "AND", "OR", "NOT", "LIMIT", "DESC", "TRUE", "FALSE", "NULL", "IN"]);

/** Longest first where one is a prefix of another. `%` lexes (vfilter has it) but no grammar rule takes it. */
const OPERATORS = [";", "<>", "<=", ">=", "!=", "=~", "==", "=>", "&&", "(", ")", "[", "]", "{", "}", ",", ".", "=", "<", ">", "+", "-", "*", "/", "%", ":"];
const OP_ALIAS: Record<string, string> = { "==": "=", "<>": "!=" };

/** Go regexp `\s` (RE2 Perl class): what vfilter skips as whitespace. */
const GO_SPACE = new Set([" ", "\t", "\n", "\f", "\r"]);

/**
 * vfilter's string unquoting (utils/unquote.go Unquote), byte for byte, including its handling of a malformed
 * `\x` escape (it copies the byte at the output index and moves on by one). Returns the decoded text as UTF-8.
 */
export function unquoteVqlString(body: string): string {
  const inp = Buffer.from(body, "utf8");
  const out = Buffer.alloc(inp.length);
  const end = inp.length - 1;
  let i = 0;
  let j = 0;
  const hex = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);
  while (i <= end) {
    if (inp[i] !== 0x5c) {
      out[j++] = inp[i++]!;
      continue;
    }
    if (i >= end) break; // a lone backslash at the end is dropped
    const n = inp[i + 1]!;
    if (n === 0x78 || n === 0x58) {
      if (i > end - 3) break;
      const hi = hex(inp[i + 2]!);
      const lo = hex(inp[i + 3]!);
      if (hi < 0 || lo < 0) {
        out[j] = inp[j]!;
        i++;
        j++;
      } else {
        out[j++] = (hi << 4) | lo;
        i += 4;
      }
      continue;
    }
    out[j++] = n === 0x72 ? 0x0d : n === 0x6e ? 0x0a : n === 0x74 ? 0x09 : n;
    i += 2;
  }
  return out.subarray(0, j).toString("utf8");
}

/**
 * Go's strconv.UnquoteChar loop over a backtick identifier (vfilter utils.Unquote_ident), used where vfilter names a
 * LET definition or a call argument: `` `\x6cabel` `` is `label` there. On a malformed escape Go returns the rest
 * unchanged, and so does this.
 */
export function unquoteIdent(raw: string): string {
  let s = raw;
  let out = "";
  // Go's escapes; \' and \" are errors when the quote is a backtick, and so is \` (not an escape at all).
  const simple: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\" };
  while (s !== "") {
    if (s[0] !== "\\") {
      const cp = s.codePointAt(0)!;
      const ch = String.fromCodePoint(cp);
      out += ch;
      s = s.slice(ch.length);
      continue;
    }
    const c = s[1];
    if (c === undefined) return s;
    if (c in simple) {
      out += simple[c];
      s = s.slice(2);
      continue;
    }
    const width = c === "x" ? 2 : c === "u" ? 4 : c === "U" ? 8 : /[0-7]/.test(c) ? 3 : 0;
    if (!width) return s;
    const digits = c >= "0" && c <= "7" ? s.slice(1, 4) : s.slice(2, 2 + width);
    const ok = c >= "0" && c <= "7" ? /^[0-7]{3}$/.test(digits) && parseInt(digits, 8) <= 255 : new RegExp(`^[0-9a-fA-F]{${width}}$`).test(digits);
    if (!ok) return s;
    const code = parseInt(digits, c >= "0" && c <= "7" ? 8 : 16);
    if (c === "u" || c === "U") {
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return s;
      out += String.fromCodePoint(code);
    } else out += String.fromCharCode(code);
    s = s.slice(c >= "0" && c <= "7" ? 4 : 2 + width);
  }
  return out;
}

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
    if (GO_SPACE.has(c)) {
      advance(1);
      continue;
    }
    if (text.startsWith("--", i) || text.startsWith("//", i)) {
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
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length) throw new VqlSyntaxError(`unterminated ${c} string`, start.line, start.column);
      const value = unquoteVqlString(text.slice(i + 1, j));
      advance(j + 1 - i);
      tokens.push({ type: "string", value, pos: start });
      continue;
    }
    if (c === "`") {
      const end = text.indexOf("`", i + 1);
      if (end <= i + 1) throw new VqlSyntaxError(end < 0 ? "unterminated ` identifier" : "empty ` identifier", start.line, start.column);
      const value = text.slice(i + 1, end);
      advance(end + 1 - i);
      tokens.push({ type: "ident", value, pos: start, quoted: true });
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d*\.?\d+([eE][-+]?\d+)?)/.exec(text.slice(i, i + 64));
    if (num) {
      advance(num[0].length);
      tokens.push({ type: "number", value: num[0], pos: start });
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 256));
    if (id) {
      advance(id[0].length);
      const upper = id[0].toUpperCase();
      const by = upper === "GROUP" || upper === "ORDER" ? /^[ \t\n\f\r]+BY(?![A-Za-z0-9_])/i.exec(text.slice(i)) : null;
      if (by) {
        tokens.push({ type: "keyword", value: upper, pos: start });
        const byPos = { line, column: 0 };
        advance(by[0].length - 2);
        byPos.line = line;
        byPos.column = i - lineStart + 1;
        advance(2);
        tokens.push({ type: "keyword", value: "BY", pos: byPos });
        continue;
      }
      tokens.push(KEYWORDS.has(upper) ? { type: "keyword", value: upper, pos: start } : { type: "ident", value: id[0], pos: start });
      continue;
    }
    if (c === "|") {
      let n = 0;
      while (text[i + n] === "|") n++;
      advance(n);
      tokens.push({ type: "keyword", value: "OR", pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      advance(op.length);
      if (op === "&&") tokens.push({ type: "keyword", value: "AND", pos: start });
      else tokens.push({ type: "op", value: OP_ALIAS[op] ?? op, pos: start });
      continue;
    }
    throw new VqlSyntaxError(`unexpected character '${c}'`, start.line, start.column);
  }
  tokens.push({ type: "eof", value: "", pos: pos() });
  return tokens;
}
