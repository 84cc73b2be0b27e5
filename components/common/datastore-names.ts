/**
 * How Velociraptor's file-based datastore names a record on disk (v0.77.2): a user record is
 * `<Datastore.location>/users/<sanitized name>.db` (paths/users.go 10-14, file_store/api/extensions.go 8-23), each
 * component sanitized by utils.SanitizeString (utils/sanitize.go 25-97) and hash-compressed from 250 bytes on
 * (datastore/filebased_utils.go 147-157). The deployment's user bootstrap removes revoked users' records by this
 * name. The test server's datastore (test-server/datastore.ts) uses this same module, and
 * test/components/users.test.ts runs the bootstrap against the stand-in, which reads records through it.
 */

/** utils/sanitize.go SanitizeString: keep [A-Za-z0-9-_.~ $], %XX (upper hex) everything else. */
export function sanitizeComponent(component: string): string {
  if (component === "") return "";
  if (component.startsWith(".")) return `%2E${sanitizeComponent(component.slice(1))}`;
  if (component.startsWith("#")) return `%23${sanitizeComponent(component.slice(1))}`;
  if (component.endsWith(".")) return `${sanitizeComponent(component.slice(0, -1))}%2E`;
  // Reserved endings: the datastore appends "_" so a name never looks like one of its own files.
  const name = component.endsWith(".db") || component.endsWith("_") ? `${component}_` : component;
  let out = "";
  for (const byte of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~ $]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The file name of a user's record under `users/` (names short enough never to be hash-compressed). */
export function userRecordFile(name: string): string {
  const s = sanitizeComponent(name);
  if (s.length >= 250) throw new Error(`user name ${JSON.stringify(name.slice(0, 40))}… is too long: Velociraptor would store it under a hash`);
  return `${s}.db`;
}
