import { describe, expect, it } from "vitest";
import { InputError, MegaraptorError, toMegaraptorError } from "../../core/errors.js";

describe("errors", () => {
  it("InputError names the field in its message and carries the fix as hint", () => {
    const e = new InputError("client_id", "expected C. followed by 16 hex digits", "e.g. C.1234567890abcdef");
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toBe("client_id: expected C. followed by 16 hex digits");
    expect(e.describe()).toContain("Next step: e.g. C.1234567890abcdef");
  });

  it("wraps unknown throwables as INTERNAL without losing the message", () => {
    const e = toMegaraptorError(new TypeError("boom"));
    expect(e).toBeInstanceOf(MegaraptorError);
    expect(e.code).toBe("INTERNAL");
    expect(e.message).toBe("boom");
    expect(e.retryable).toBe(false);
  });

  it("passes MegaraptorErrors through unchanged", () => {
    const original = new MegaraptorError("TIMEOUT", "too slow", { retryable: true });
    expect(toMegaraptorError(original)).toBe(original);
  });
});
