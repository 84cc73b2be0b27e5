import { describe, expect, it } from "vitest";
import { redact } from "../../core/logger.js";

describe("redact", () => {
  it("replaces values of secret-named fields at any depth", () => {
    const out = redact({ user: "alice", nested: { password: "hunter2", client_private_key: "abc" } }) as Record<
      string,
      Record<string, unknown>
    >;
    expect(out.user).toBe("alice");
    expect(out.nested!.password).toBe("[REDACTED]");
    expect(out.nested!.client_private_key).toBe("[REDACTED]");
  });

  it("removes PEM private keys embedded in ordinary strings", () => {
    const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----";
    const out = redact({ note: `config: ${pem} end` }) as { note: string };
    expect(out.note).not.toContain("MIIBOgIBAAJBAK");
    expect(out.note).toContain("[REDACTED PRIVATE KEY]");
  });

  it("keeps certificates, which are public", () => {
    const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    expect(redact({ ca_certificate: cert })).toEqual({ ca_certificate: cert });
  });
});
