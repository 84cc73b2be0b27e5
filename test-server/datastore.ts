/**
 * The file layout and encodings of Velociraptor's FileBaseDataStore for the two records the API server needs
 * (docs/velociraptor-rules.md §2): `users/<name>.db` holds a binary-protobuf `VelociraptorUser`, and
 * `acl/<name>.json.db` (per org under `orgs/<org>/`) holds a protojson `ApiClientACL`. Names are sanitized the way
 * utils.SanitizeString does, so a datastore written here reads the same way Velociraptor would read it.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { sanitizeComponent } from "../components/common/datastore-names.js";
import { isRootOrg } from "./acl.js";

// One implementation of utils.SanitizeString for the deployments' user bootstrap and this datastore, so what the
// bootstrap removes is exactly the record the stand-in reads (a pure module, like components/pki).
export { sanitizeComponent } from "../components/common/datastore-names.js";

/** utils.UnsanitizeComponent: undo %XX, drop one trailing "_". */
export function unsanitizeComponent(component: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < component.length; ) {
    if (component[i] === "%") {
      if (i + 2 < component.length) bytes.push(parseInt(component.slice(i + 1, i + 3), 16));
      i += 3;
    } else bytes.push(component.charCodeAt(i++));
  }
  if (bytes.at(-1) === 0x5f) bytes.pop();
  return Buffer.from(bytes).toString("utf8");
}

/** Long components become "#<sha1>" in Velociraptor (with the real name kept elsewhere); refuse them instead. */
function component(name: string): string {
  const s = sanitizeComponent(name);
  if (s.length >= 250) throw new Error(`user name ${JSON.stringify(name.slice(0, 40))}… is too long for the datastore layout this stand-in writes (${s.length} bytes sanitized; Velociraptor hash-compresses such names).`);
  return s;
}

/** Datastore root of an org: the root org at `location`, others under `location/orgs/<id>` (services/orgs/orgs.go). */
export function orgLocation(location: string, orgId: string): string {
  return isRootOrg(orgId) ? location : join(location, "orgs", orgId);
}

export const usersDir = (location: string) => join(location, "users");
export const aclDir = (location: string, orgId: string) => join(orgLocation(location, orgId), "acl");
export const userRecordPath = (location: string, name: string) => join(usersDir(location), `${component(name)}.db`);
export const aclPath = (location: string, orgId: string, name: string) => join(aclDir(location, orgId), `${component(name)}.json.db`);

/** The `VelociraptorUser` fields this store reads and writes (api/proto/users.proto numbers). */
export interface UserRecord {
  name: string;
  passwordHash?: Buffer;
  passwordSalt?: Buffer;
  readOnly?: boolean;
  locked?: boolean;
}

const FIELD = { name: 1, passwordHash: 2, passwordSalt: 3, readOnly: 7, locked: 8 } as const;

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function lengthDelimited(field: number, data: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
}

/** Binary protobuf, as FileBaseDataStore.SetSubject writes a PATH_TYPE_DATASTORE_PROTO record. */
export function encodeUserRecord(r: UserRecord): Buffer {
  const parts: Buffer[] = [];
  if (r.name) parts.push(lengthDelimited(FIELD.name, Buffer.from(r.name, "utf8")));
  if (r.passwordHash?.length) parts.push(lengthDelimited(FIELD.passwordHash, r.passwordHash));
  if (r.passwordSalt?.length) parts.push(lengthDelimited(FIELD.passwordSalt, r.passwordSalt));
  if (r.readOnly) parts.push(varint(FIELD.readOnly << 3), varint(1));
  if (r.locked) parts.push(varint(FIELD.locked << 3), varint(1));
  return Buffer.concat(parts);
}

/** Reads a user record: binary protobuf, or protojson when the file starts with "{" (filebased.go GetSubject). */
export function decodeUserRecord(data: Buffer): UserRecord {
  if (data[0] === 0x7b) {
    const j = JSON.parse(data.toString("utf8")) as Record<string, unknown>;
    const b64 = (v: unknown) => (typeof v === "string" ? Buffer.from(v, "base64") : undefined);
    return { name: String(j.name ?? ""), passwordHash: b64(j.passwordHash ?? j.password_hash), passwordSalt: b64(j.passwordSalt ?? j.password_salt), readOnly: (j.readOnly ?? j.read_only) === true, locked: j.locked === true };
  }
  const r: UserRecord = { name: "" };
  let i = 0;
  const readVarint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (i >= data.length) throw new Error("truncated varint in user record");
      const b = data[i++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
  };
  while (i < data.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const v = readVarint();
      if (field === FIELD.readOnly) r.readOnly = v !== 0;
      if (field === FIELD.locked) r.locked = v !== 0;
    } else if (wire === 2) {
      const len = readVarint();
      const bytes = data.subarray(i, i + len);
      if (bytes.length !== len) throw new Error("truncated field in user record");
      i += len;
      if (field === FIELD.name) r.name = bytes.toString("utf8");
      if (field === FIELD.passwordHash) r.passwordHash = Buffer.from(bytes);
      if (field === FIELD.passwordSalt) r.passwordSalt = Buffer.from(bytes);
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported protobuf wire type ${wire} in user record`);
  }
  return r;
}

/** services/users/users.go SetPassword: 32 random bytes of salt, SHA-256(salt ‖ password). */
export function passwordHash(salt: Buffer, password: string): Buffer {
  return createHash("sha256").update(Buffer.concat([salt, Buffer.from(password, "utf8")])).digest();
}
