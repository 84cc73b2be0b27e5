export * from "./ast.js";
export { tokenize, KEYWORDS, type Token } from "./lexer.js";
export { parseVql, parseExpression, type ParseResult } from "./parser.js";
export { callSites, references, type CallSite, type References } from "./walk.js";
