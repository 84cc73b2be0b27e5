/**
 * What each VQL call does, as facts for the effect classifier (./effects.ts). A call is one of:
 * - read: returns data and changes nothing on the server, the endpoints or elsewhere;
 * - investigate: changes state the way Velociraptor's `investigator` role may (acls/roles.go: LABEL_CLIENT,
 *   COLLECT_CLIENT, START_HUNT, NOTEBOOK_EDITOR, PREPARE_RESULTS on top of READ_RESULTS and ANY_QUERY);
 * - respond: anything else, and anything not listed here (unknown calls are assumed to do the worst).
 *
 * The permission a call declares comes from ./builtins.ts (Velociraptor's vql.yaml); the read list below is a
 * deliberate allow-list, not "everything that declares no permission" (user_grant, server_set_metadata and the
 * monitoring setters declare none and change state).
 */

/** Pure functions (no I/O) and result readers. Sources: vql.yaml (permissions) and the functions' documentation. */
export const READ_FUNCTIONS = new Set([
  // Pure: values in, values out (vfilter functions/, velociraptor vql/functions/).
  "all", "any", "array", "atoi", "base64decode", "base64encode", "base85decode", "basename", "cidr_contains",
  "commandline_split", "count", "crypto_rc4", "dict", "dirname", "encode", "entropy", "enumerate", "filter", "format",
  "get", "grok", "gunzip", "humanize", "if", "int", "ip", "items", "join", "lazy_dict", "len", "lowcase",
  "lzxpress_decompress", "max", "min", "now", "parse_float", "parse_json", "parse_json_array", "parse_string_with_regex",
  "parse_x509", "path_join", "path_split", "pathspec", "rand", "regex_replace", "relpath", "rot13", "semver",
  "serialize", "similarity", "slice", "split", "str", "strip", "substr", "sum", "timestamp", "timestamp_format",
  "to_dict", "typeof", "unhex", "upcase", "url", "utf16", "utf16_encode", "uuid", "version", "xor",
  // Harmless side channels: the query's own log and a pause.
  "log", "sleep",
  // Who am I (vql/server/users: a user may always read their own record).
  "whoami", "user", "org",
  // Result readers (READ_RESULTS).
  "client_info", "hunt_info", "get_client_monitoring", "get_server_monitoring",
  // Server file readers (FILESYSTEM_READ), only with a read-only accessor (see FILE_READERS).
  "hash", "stat", "read_file", "magic", "parse_yaml", "parse_xml",
]);

export const READ_PLUGINS = new Set([
  // Query plumbing over sub-queries that are themselves classified.
  "scope", "range", "items", "foreach", "if", "chain", "flatten", "switch", "column_filter", "dedup", "sample", "for",
  "combine", "delay", "parse_json_array", "help",
  // Result readers (READ_RESULTS), server info (MACHINE_STATE, read) and orgs/users listings.
  "info", "clients", "flows", "source", "flow_results", "flow_logs", "uploads", "artifact_definitions", "hunts",
  "hunt_results", "hunt_flows", "monitoring", "monitoring_logs", "timeline", "timelines", "enumerate_flow", "orgs",
  "gui_users", "upload_transactions", "watch_monitoring", "favorites_list",
  // Server file readers (FILESYSTEM_READ), only with a read-only accessor.
  "stat", "glob", "read_file", "parse_csv", "parse_jsonl", "parse_lines",
]);

/** Calls that read files through an `accessor=` argument: only these accessors keep them read-only. */
export const FILE_READERS = new Set(["hash", "stat", "read_file", "magic", "parse_yaml", "parse_xml", "glob", "parse_csv", "parse_jsonl", "parse_lines"]);
/**
 * Accessors that only read local data. Left out on purpose: network accessors (s3, smb, ssh, …: they reach other
 * systems with stored credentials), `pipe` (runs a query), `process`/`winpmem` (process memory), and `me`.
 */
export const READ_ONLY_ACCESSORS = new Set(["auto", "file", "file_nocase", "data", "scope", "zip", "zip_nocase", "gzip", "bzip2", "collector", "fs", "vfs"]);

/**
 * Investigator-level calls (acls/roles.go `investigator`), each with the permission vql.yaml declares. Argument rules
 * that can raise one to respond (collect_client on 'server', hunt across orgs) live in ./effects.ts.
 */
export const INVESTIGATE_CALLS: Readonly<Record<string, string>> = {
  label: "LABEL_CLIENT: adds or removes client labels",
  collect_client: "COLLECT_CLIENT: schedules a collection on an endpoint",
  hunt: "START_HUNT: creates a hunt (it starts unless pause=TRUE)",
  hunt_update: "START_HUNT: starts, stops or edits a hunt",
  hunt_add: "START_HUNT: adds a client to a hunt",
  cancel_flow: "COLLECT_CLIENT: cancels a collection",
  create_flow_download: "PREPARE_RESULTS: writes a download ZIP into the server's filestore",
  create_hunt_download: "PREPARE_RESULTS: writes a download ZIP into the server's filestore",
};

/**
 * Arguments Velociraptor parses as a VQL lambda from a string (vfilter ParseLambda; struct fields typed
 * *vfilter.Lambda or parsed by hand): the calls inside them run like any other. Sources: vql.yaml argument types and
 * vql/aggregates/all.go, vql/functions/lists.go, vql/functions/eval.go, vql/filesystem/filesystem.go (glob
 * recursion_callback), vql/parsers/regexparser.go (replace_lambda), vql/common/batch.go, vql/tools/query.go,
 * vql/server/clients/metadata.go, vql/sigma/sigma.go, vql/tools/process/tree.go, vql/tools/lru/cache.go,
 * vql/windows/etw/watch_etw.go, vql/common/yarax.go.
 */
export const LAMBDA_ARGS: Readonly<Record<string, readonly string[]>> = {
  all: ["filter"],
  any: ["filter"],
  filter: ["condition"],
  eval: ["func"],
  glob: ["recursion_callback"],
  regex_replace: ["replace_lambda"],
  batch: ["batch_func"],
  query: ["exit"],
  client_set_metadata: ["modify"],
  sigma: ["rule_filter", "default_details"],
  process_tracker_tree: ["data_callback"],
  lru: ["lambda"],
  cache: ["lambda"],
  watch_etw: ["stop"],
  yarax: ["dll_path"],
};

/**
 * Calls that run VQL the query text does not contain (strings parsed at run time, artifact exports, scripts): what
 * they do, and which artifacts they collect, cannot be known before they run.
 */
export const DYNAMIC_CODE = new Set(["query", "atexit", "starl", "js", "js_call", "js_set", "remap", "eval", "cache", "memoize", "import", "sigma", "process_tracker", "template", "collect", "notebook_update_cell"]);

/**
 * Scope variables Velociraptor sets that reach the whole scope or the artifact runner (services/repository/scope.go:
 * `Artifact`; constants.go: `$root`, `$repository`, `$acl`, `$uploader`, …). Naming them as a value lets a query run an
 * artifact without a visible `Artifact.X(...)` call, so such references are refused outside respond mode.
 */
export const ARTIFACT_RUNNER = "Artifact";
