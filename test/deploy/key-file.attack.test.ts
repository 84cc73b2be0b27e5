/**
 * deploy_agents_ssh's key_path comes from a model: it must not read an arbitrary file, and no refusal may echo what
 * the file holds. Only an owner-only regular file that starts like a private key is read (OpenSSH's own rule for
 * key files: sshfile.c refuses group/world-readable keys).
 */
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readPrivateKeyFile } from "../../deploy/agents/key-file.js";
import { InputError } from "../../core/errors.js";

const dir = mkdtempSync(join(tmpdir(), "mr-keyfile-"));
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const SECRET = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

function file(name: string, body: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  chmodSync(p, mode);
  return p;
}

function refusal(path: string): InputError {
  try {
    readPrivateKeyFile(path);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error(`${path} was read`);
}

describe("key_path", () => {
  it("reads an owner-only private key, also through a symlink", () => {
    const key = file("id_ed25519", KEY);
    expect(readPrivateKeyFile(key)).toBe(KEY);
    const link = join(dir, "link-to-key");
    symlinkSync(key, link);
    expect(readPrivateKeyFile(link)).toBe(KEY);
  });

  it("refuses a file that is not a private key without echoing its contents", () => {
    const e = refusal(file("credentials", `[default]\n${SECRET}\n`));
    expect(e.field).toBe("key_path");
    expect(e.message).toMatch(/is not a private key/);
    expect(JSON.stringify({ message: e.message, hint: e.hint })).not.toContain("wJalrXUtnFEMI");
  });

  it("refuses a key others can read, naming the chmod that fixes it", () => {
    const e = refusal(file("id_rsa_open", KEY, 0o644));
    expect(e.message).toMatch(/readable by others \(mode 644\)/);
    expect(e.hint).toContain("chmod 600");
  });

  it("refuses relative paths, directories, missing files and oversized files", () => {
    expect(refusal("id_rsa").message).toMatch(/not an absolute path/);
    const sub = join(dir, "sub");
    mkdirSync(sub, { mode: 0o700 });
    expect(refusal(sub).message).toMatch(/not a regular file/);
    expect(refusal(join(dir, "nope")).message).toMatch(/no file at/);
    expect(refusal(file("huge", KEY + "A".repeat(70 * 1024))).message).toMatch(/too large/);
  });

  it("refuses a symlink to a file that is not a key (the target's contents stay unread in errors)", () => {
    const target = file("shadow-like", `root:${SECRET}:19000:0:99999:7:::\n`);
    const link = join(dir, "looks-like-a-key");
    symlinkSync(target, link);
    const e = refusal(link);
    expect(e.message).not.toContain("wJalrXUtnFEMI");
  });
});
