/**
 * The private key file `deploy_agents_ssh` may read from this machine (`key_path`). The path arrives from a model, so
 * it must not become a way to read any file: only a regular file that looks like a private key, readable by its
 * owner alone — the rule OpenSSH itself applies ("UNPROTECTED PRIVATE KEY FILE", sshfile.c sshkey_perm_ok) — and
 * never its contents in an error.
 */
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { InputError } from "../../core/errors.js";

/** Larger than any OpenSSH/PEM private key (an 16k-bit RSA key is ~12 KB); a bigger file is not a key. */
const MAX_KEY_BYTES = 64 * 1024;
/** The headers of the private key encodings ssh2 parses: OpenSSH, PKCS#1 (RSA/DSA/EC) and PKCS#8. */
const KEY_HEADER = /^-----BEGIN (OPENSSH|RSA|DSA|EC|ENCRYPTED)? ?PRIVATE KEY-----/;

const FIELD = "key_path";

/** Reads a private key for SSH from `path` (absolute or `~/…`), refusing what is not one, with the fix named. */
export function readPrivateKeyFile(path: string): string {
  const full = path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
  if (!isAbsolute(full)) throw new InputError(FIELD, `"${path}" is not an absolute path`, "Give the key's absolute path (or ~/.ssh/…), or store it with store_credential and pass ssh_credential.");
  let fd: number;
  try {
    // O_NOFOLLOW is not used: ~/.ssh keys are often symlinks into a secrets store; the checks below run on the opened
    // file itself (fstat), so what is checked is what is read.
    fd = openSync(full, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(FIELD, code === "ENOENT" ? `no file at ${full}` : `cannot open ${full} (${code ?? "error"})`, "Check the path, or store the key with store_credential and pass ssh_credential.");
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError(FIELD, `${full} is not a regular file`, "Name the private key file itself.");
    if (st.mode & 0o077)
      throw new InputError(FIELD, `${full} is readable by others (mode ${(st.mode & 0o777).toString(8)}); a private key must be readable by its owner only`, `Run: chmod 600 ${full}`);
    if (st.size > MAX_KEY_BYTES) throw new InputError(FIELD, `${full} is ${st.size} bytes, too large for a private key`, "Name an OpenSSH or PEM private key file.");
    // Read through the descriptor that was checked, never by path again (no swap between check and read).
    const text = readFileSync(fd, "utf8");
    if (!KEY_HEADER.test(text.trimStart())) throw new InputError(FIELD, `${full} is not a private key (no "-----BEGIN … PRIVATE KEY-----" line)`, "Name an OpenSSH or PEM private key file, e.g. ~/.ssh/id_ed25519.");
    return text;
  } finally {
    closeSync(fd);
  }
}
