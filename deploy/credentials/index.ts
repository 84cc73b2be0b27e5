/**
 * Credential store for deploy tools (SSH keys, passwords, cloud secrets): one file, 0600, each value encrypted with
 * AES-256-GCM under a key derived by scrypt from MEGARAPTOR_CREDENTIAL_PASSPHRASE or a generated key file (0600).
 * Values are never returned by listings; deploy tools take an alias instead of a secret.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { InputError, MegaraptorError } from "../../core/errors.js";
import { megaraptorHome } from "../../core/paths.js";
import { ensureFolder, writeFileAtomic, type WriteError } from "../../core/write.js";

export const CredentialKind = z.enum(["ssh_private_key", "password", "token", "cloud_secret"]);

const EntrySchema = z.object({ kind: CredentialKind, description: z.string().default(""), createdAt: z.string(), salt: z.string(), iv: z.string(), tag: z.string(), data: z.string() });
const FileSchema = z.object({ version: z.literal(1), credentials: z.record(z.string(), EntrySchema) });

export class CredentialError extends MegaraptorError {
  constructor(message: string, hint: string) {
    super("CREDENTIAL_ERROR", message, { hint });
  }
}

function secretMaterial(env: NodeJS.ProcessEnv): string {
  if (env.MEGARAPTOR_CREDENTIAL_PASSPHRASE) return env.MEGARAPTOR_CREDENTIAL_PASSPHRASE;
  const keyFile = join(megaraptorHome(), "credential-key");
  if (!existsSync(keyFile)) {
    // All or nothing: a key file cut short by a full disk would silently become a weaker key for every secret.
    ensureFolder(dirname(keyFile), { what: "credential key folder", redirect: "MEGARAPTOR_HOME" });
    try {
      writeFileAtomic(keyFile, randomBytes(32).toString("base64url"), { what: "credential key", redirect: "MEGARAPTOR_HOME (or set MEGARAPTOR_CREDENTIAL_PASSPHRASE)", mode: 0o600, exclusive: true });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as WriteError).errno !== "EEXIST") throw err;
    }
  }
  return readFileSync(keyFile, "utf8").trim();
}

export class CredentialStore {
  constructor(
    private readonly path = process.env.MEGARAPTOR_CREDENTIALS_FILE ?? join(megaraptorHome(), "credentials.json"),
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private load(): z.infer<typeof FileSchema> {
    if (!existsSync(this.path)) return { version: 1, credentials: {} };
    return FileSchema.parse(JSON.parse(readFileSync(this.path, "utf8")));
  }

  private save(file: z.infer<typeof FileSchema>): void {
    ensureFolder(dirname(this.path), { what: "credential store folder", redirect: "MEGARAPTOR_CREDENTIALS_FILE" });
    writeFileAtomic(this.path, JSON.stringify(file, null, 2), { what: "credential store", redirect: "MEGARAPTOR_CREDENTIALS_FILE", mode: 0o600 });
    chmodSync(this.path, 0o600);
  }

  store(alias: string, kind: z.infer<typeof CredentialKind>, secret: string, description = ""): void {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(alias)) throw new InputError("alias", "use 1–64 letters, digits, _ . -", "e.g. lab-ssh-key");
    if (!secret) throw new InputError("secret", "is empty", "Pass the key or password to store.");
    const salt = randomBytes(16);
    const key = scryptSync(secretMaterial(this.env), salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(alias));
    const data = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    const file = this.load();
    file.credentials[alias] = { kind, description, createdAt: new Date().toISOString(), salt: salt.toString("base64"), iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64"), data: data.toString("base64") };
    this.save(file);
  }

  /** Decrypts a credential; only deploy code calls this, never a tool's output. */
  reveal(alias: string): { kind: string; secret: string } {
    const e = this.load().credentials[alias];
    if (!e) throw new CredentialError(`credential "${alias}" does not exist`, "List them with list_credentials, or store one with store_credential.");
    try {
      const key = scryptSync(secretMaterial(this.env), Buffer.from(e.salt, "base64"), 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
      const d = createDecipheriv("aes-256-gcm", key, Buffer.from(e.iv, "base64"));
      d.setAAD(Buffer.from(alias));
      d.setAuthTag(Buffer.from(e.tag, "base64"));
      return { kind: e.kind, secret: Buffer.concat([d.update(Buffer.from(e.data, "base64")), d.final()]).toString("utf8") };
    } catch {
      throw new CredentialError(`credential "${alias}" cannot be decrypted`, "The passphrase or key file changed (MEGARAPTOR_CREDENTIAL_PASSPHRASE / ~/.megaraptor/credential-key), or the file was modified. Store it again.");
    }
  }

  list(): { alias: string; kind: string; description: string; createdAt: string }[] {
    return Object.entries(this.load().credentials).map(([alias, e]) => ({ alias, kind: e.kind, description: e.description, createdAt: e.createdAt }));
  }

  delete(alias: string): boolean {
    const file = this.load();
    if (!file.credentials[alias]) return false;
    delete file.credentials[alias];
    this.save(file);
    return true;
  }
}
