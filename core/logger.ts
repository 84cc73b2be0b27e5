/**
 * Structured logging to stderr. stdout belongs to the MCP stdio transport and to CLI data output,
 * so nothing here ever writes there. Secrets are redacted at the logger, whatever the caller passes.
 */
type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY = /(pass(word|phrase)?|secret|token|private[_-]?key|client_private_key|api[_-]?key|credential)/i;
const PEM_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;

/** Deep-copies a value with secret-looking fields and PEM private keys replaced by "[REDACTED]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[…]";
  if (typeof value === "string") return value.replace(PEM_KEY, "[REDACTED PRIVATE KEY]");
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== "" ? "[REDACTED]" : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

function threshold(): number {
  // A word that is not a level logs at info here; commands refuse it at start-up (core/settings.ts CHOICE_SETTINGS).
  const env = (process.env.MEGARAPTOR_LOG_LEVEL ?? "info").trim().toLowerCase() as Level;
  return ORDER[env] ?? ORDER.info;
}

function write(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold()) return;
  const entry = { time: new Date().toISOString(), level, msg: redact(msg), ...(fields ? (redact(fields) as object) : {}) };
  process.stderr.write(JSON.stringify(entry) + "\n");
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
};
