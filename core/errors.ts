/**
 * The project's error base. Every error a user can see carries a stable `code`, whether retrying can help,
 * and a `hint` that says what to do next. MCP tool errors, CLI exit messages and logs all render from these fields.
 */
export class MegaraptorError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    opts: { hint?: string; retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.hint = opts.hint;
    this.details = opts.details;
  }

  /** One line for a terminal or a model: the problem, then the next step. */
  describe(): string {
    return this.hint ? `${this.message}\nNext step: ${this.hint}` : this.message;
  }
}

/** Bad input from a user or a model: names the field and the fix. */
export class InputError extends MegaraptorError {
  readonly field: string;
  constructor(field: string, message: string, hint?: string) {
    super("INVALID_INPUT", `${field}: ${message}`, { hint });
    this.field = field;
  }
}

/** Render any thrown value as a MegaraptorError without leaking a stack trace to users. */
export function toMegaraptorError(err: unknown): MegaraptorError {
  if (err instanceof MegaraptorError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new MegaraptorError("INTERNAL", message, {
    cause: err,
    hint: "This is unexpected; rerun with MEGARAPTOR_LOG_LEVEL=debug and report the stderr log.",
  });
}
