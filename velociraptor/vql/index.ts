export * from "./ast.js";
export { tokenize, KEYWORDS, unquoteIdent, unquoteVqlString, type Token } from "./lexer.js";
export { parseVql, parseVqlFresh, parseExpression, parseLambda, type ParseResult } from "./parser.js";
export { callSites, references, type CallSite, type References } from "./walk.js";
export { classifyVql, classifyVqlFresh, maxEffect, type ArtifactUse, type CallEffect, type Effect, type VqlClassification } from "./effects.js";
