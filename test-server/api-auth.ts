/**
 * The API server's per-call gate, as Velociraptor 0.77.2 runs it (docs/velociraptor-rules.md §1, §4): who the caller
 * is (users.GetUserFromContext), which org it acts in, and how a Go error becomes the gRPC status the client sees —
 * unchanged in Query (a plain error is UNKNOWN), through api.Status() in the unary calls.
 */
import * as grpc from "@grpc/grpc-js";
import { identifyCaller, type PeerCertificateLike } from "./caller.js";
import { SUPERUSER, VelociraptorRefusal, type UserStore } from "./user-store.js";

export function grpcStatus(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** A Go error as the API code handles it: its text, and whether it wraps os.ErrNotExist (api.Status looks). */
export class GoError extends Error {
  constructor(
    message: string,
    readonly notExist = false,
  ) {
    super(message);
  }
}

/** services.OrgNotFoundError: a plain error (not a not-exist one). */
export const orgNotFound = () => new GoError("Org not found");

export interface AuthContext {
  users: UserStore;
  caCertificate: string;
  gatewayName: string;
  orgExists: (orgId: string) => boolean;
  /** `frontend -v`: api.Status() passes error details through. */
  verbose: boolean;
}

export interface Principal {
  name: string;
  /** The org the call starts in ("root" unless the gateway named another). */
  org: string;
}

type CallLike = { getAuthContext(): { sslPeerCertificate?: PeerCertificateLike }; metadata?: grpc.Metadata };

/** users.GetUserFromContext: the superuser needs no record, everyone else does. Throws GoError. */
export function userFromContext(call: CallLike, ctx: AuthContext): Principal {
  const caller = identifyCaller(call.getAuthContext().sslPeerCertificate, call.metadata, { caCertificate: ctx.caCertificate, gatewayName: ctx.gatewayName });
  if (caller.name !== SUPERUSER) {
    try {
      ctx.users.getUser(caller.name);
    } catch (err) {
      if (err instanceof VelociraptorRefusal) throw new GoError(err.message, err.code === "USER_NOT_FOUND");
      throw err;
    }
  }
  const org = caller.currentOrg ?? "root";
  if (org !== "root" && !ctx.orgExists(org)) throw orgNotFound();
  return { name: caller.name, org };
}

/** A handler error returned as is: grpc-go turns a non-status error into UNKNOWN with its text. */
export function rawStatus(err: GoError): grpc.ServiceError {
  return grpcStatus(grpc.status.UNKNOWN, err.message);
}

/** api/status.go Status(): not-exist errors become NOT_FOUND ("Not Found" unless verbose), others UNAVAILABLE (UNKNOWN when verbose). */
export function apiStatus(err: GoError, verbose: boolean): grpc.ServiceError {
  if (verbose) return err.notExist ? grpcStatus(grpc.status.NOT_FOUND, err.message) : rawStatus(err);
  return err.notExist ? grpcStatus(grpc.status.NOT_FOUND, "Not Found") : grpcStatus(grpc.status.UNAVAILABLE, err.message);
}

/** api/status.go PermissionDenied(): the check's error, if any, before the message. */
export function permissionDenied(error: string | undefined, message: string): grpc.ServiceError {
  return grpcStatus(grpc.status.PERMISSION_DENIED, error ? `${error}: ${message}` : message);
}
