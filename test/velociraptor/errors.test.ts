import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { CallerUnidentifiedError, classifyGrpcError, NotFoundError, PermissionDeniedError, TlsError, UserNotFoundError, VelociraptorUnreachableError } from "../../velociraptor/errors.js";
import { classifyLogLine } from "../../velociraptor/client.js";
import { isRetryable } from "../../velociraptor/retry.js";

const ctx = { address: "10.0.0.1:8001", user: "megaraptor" };
const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

describe("classifyGrpcError", () => {
  it("maps PERMISSION_DENIED to PermissionDeniedError with the acl grant fix for the user", () => {
    const e = classifyGrpcError(grpcError(status.PERMISSION_DENIED, "Permission denied: User megaraptor requires permission ANY_QUERY to run queries"), ctx);
    expect(e).toBeInstanceOf(PermissionDeniedError);
    expect(e.hint).toContain("acl grant megaraptor");
    expect(e.retryable).toBe(false);
  });

  it.each([
    [status.UNKNOWN, "Query"],
    [status.NOT_FOUND, "VFSGetBuffer with frontend -v"],
  ])("maps Velociraptor's 'User not found' (code %i, %s) to USER_NOT_FOUND with the bootstrap command", (code) => {
    const e = classifyGrpcError(grpcError(code, "User not found: megaraptor"), ctx);
    expect(e).toBeInstanceOf(UserNotFoundError);
    expect(e.hint).toContain("config api_client --name megaraptor --role");
    expect(isRetryable(e)).toBe(false);
  });

  it("maps 'Must set a username' (UNKNOWN from Query, UNAVAILABLE from unary calls) to CLIENT_CERT_UNIDENTIFIED, never retried", () => {
    for (const code of [status.UNKNOWN, status.UNAVAILABLE]) {
      const e = classifyGrpcError(grpcError(code, "Must set a username"), ctx);
      expect(e).toBeInstanceOf(CallerUnidentifiedError);
      expect(e.hint).toContain("serverAuth");
      expect(isRetryable(e)).toBe(false);
    }
  });

  it("maps UNAVAILABLE 'Org not found' to NOT_FOUND, not to an unreachable server", () => {
    const e = classifyGrpcError(grpcError(status.UNAVAILABLE, "Org not found"), ctx);
    expect(e).toBeInstanceOf(NotFoundError);
    expect(isRetryable(e)).toBe(false);
  });

  it.each([
    ["No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.1:8001", "CONNECTION_REFUSED"],
    ["No connection established. Last error: Error: self-signed certificate in certificate chain", "UNKNOWN_CA"],
    ["No connection established. Last error: Error: certificate has expired", "CERT_EXPIRED"],
    ["No connection established. Last error: Error: certificate is not yet valid", "CERT_NOT_YET_VALID"],
    ["Hostname/IP does not match certificate's altnames: Host: VelociraptorServer. is not in the cert's altnames", "NAME_MISMATCH"],
    ["No connection established. Last error: Error: ssl3_get_record:wrong version number", "WRONG_PORT"],
  ])("reads the TLS failure from %s", (details, kind) => {
    const e = classifyGrpcError(grpcError(status.UNAVAILABLE, details), ctx);
    expect(e).toBeInstanceOf(TlsError);
    expect((e as TlsError).kind).toBe(kind);
    expect(e.hint).toBeTruthy();
  });

  it("treats other UNAVAILABLE errors as unreachable and retryable", () => {
    const e = classifyGrpcError(grpcError(status.UNAVAILABLE, "Connection dropped"), ctx);
    expect(e).toBeInstanceOf(VelociraptorUnreachableError);
    expect(isRetryable(e)).toBe(true);
  });

  it("never retries TLS misconfiguration, only refused connections", () => {
    expect(isRetryable(classifyGrpcError(grpcError(status.UNAVAILABLE, "certificate has expired"), ctx))).toBe(false);
    expect(isRetryable(classifyGrpcError(grpcError(status.UNAVAILABLE, "connect ECONNREFUSED"), ctx))).toBe(true);
  });
});

describe("classifyLogLine", () => {
  it.each([
    ["VQL Error: Syntax error at line 1", "error"],
    ["hunt_update: Unexpected arg state", "error"],
    ["ERROR:collect_client: client not found", "error"],
    ["Symbol Foo not found", "error"],
    ["DEBUG:Query Stats: {}", "debug"],
    ["Starting query execution.", "info"],
    ["Time 0.01: megaraptor: Sending response part 0 2 B (0 rows).", "info"],
  ])("%s → %s", (line, level) => {
    expect(classifyLogLine(line)).toBe(level);
  });
});
