/**
 * Column shapes several artifacts share because they come from the same VQL function (hash(), authenticode(),
 * netstat()): written once, used by the per-OS catalogue files. Every `from` is a path (and lines) in
 * Velocidex/velociraptor at the catalogue's tag; the facts were read there, no code was copied.
 */
import type { ColumnInput, ValueType } from "./schema.js";

type More = Omit<ColumnInput, "name" | "type">;

/** A column that is always present. */
export const col = (name: string, type: ValueType, more: More = {}): ColumnInput => ({ name, type, ...more });
/** A column that may be null. */
export const opt = (name: string, type: ValueType, more: More = {}): ColumnInput => ({ name, type, nullable: true, ...more });

/** hash(path=...): lower-case hex digests; null when the file cannot be read. */
export const hashColumn = (name = "Hash", more: More = {}): ColumnInput =>
  opt(name, "object", {
    from: "vql/functions/hash.go:48-61,158-171",
    note: "lower-case hex digests (fmt %x); null when the file cannot be opened",
    fields: [col("MD5", "string"), col("SHA1", "string"), col("SHA256", "string")],
    ...more,
  });

/**
 * authenticode(filename=...).Trusted. A PE with an embedded signature gets WinVerifyTrust's verdict; one without
 * keeps "untrusted" unless a catalog (.cat) signs it; DISABLE_DANGEROUS_API_CALLS gives "Unknown", and a client
 * that is not windows/amd64 "Unknown (No API access)".
 */
export const TRUSTED: ColumnInput = col("Trusted", "string", {
  values: ["trusted", "untrusted", "Unknown", "TRUST_E_SUBJECT_NOT_TRUSTED", "TRUST_E_SUBJECT_FORM_UNKNOWN"],
  patterns: ["^untrusted \\(.+\\)$", "^TRUST_E_ACTION_UNKNOWN 0x[0-9a-f]+$", "^Unknown \\(.+\\)$"],
  from: "vql/parsers/authenticode/authenticode.go:98,110-112; cat.go:49,106,139,191-202; pefile.go:15-66; compat.go:17-21",
  note: "unsigned PE without a catalog entry: \"untrusted\" with SubjectName null; a bad embedded signature (e.g. expired, 0x800b0101): \"TRUST_E_ACTION_UNKNOWN 0x800b0101\"",
});

/** authenticode(): null for a file that is not a PE or cannot be opened. */
export const authenticodeColumn = (name = "Authenticode", more: More = {}): ColumnInput =>
  opt(name, "object", {
    from: "vql/parsers/authenticode/authenticode.go:80-99",
    note: "null when the file is not a PE or cannot be read",
    fields: [
      col("Filename", "string"),
      opt("ProgramName", "string"),
      opt("PublisherLink", "string"),
      opt("MoreInfoLink", "string"),
      opt("SerialNumber", "string"),
      opt("IssuerName", "string"),
      opt("SubjectName", "string", { example: "C=US, ST=Washington, L=Redmond, O=Microsoft Corporation, CN=Microsoft Windows" }),
      opt("Timestamp", "any", { note: "signing time from the signature's authenticated attributes" }),
      TRUSTED,
      opt("_ExtraInfo", "object"),
    ],
    ...more,
  });

/** netstat()'s TCP states per OS; UDP sockets have an empty Status. */
export const NETSTAT_STATUS_WINDOWS = ["CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTAB", "FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT", "DELETE_TCB", ""];
export const NETSTAT_STATUS_DARWIN = ["CLOSE", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTAB", "CLOSE_WAIT", "FIN_WAIT1", "CLOSING", "LAST_ACK", "FIN_WAIT2", "TIME_WAIT", ""];

export const FAMILY = col("Family", "string", { values: ["IPv4", "IPv6"], patterns: ["^\\d+$"], from: "vql/networking/netstat_windows.go:73-82" });
export const SOCKET_TYPE = col("Type", "string", { values: ["TCP", "UDP"], patterns: ["^\\d+$"], from: "vql/networking/netstat_windows.go:84-93" });

/** Process columns Velociraptor's pslist() gives on Linux and macOS (gopsutil), as process_tracker_pslist() re-emits them. */
export const POSIX_PROCESS_NOTE =
  "process_tracker_pslist() re-emits pslist() rows with Pid and Ppid replaced by the tracker's string ids (vql/tools/process/api.go:82-98, dummy.go:178-211)";
