/**
 * Linux, macOS and cross-platform artifacts' columns at Velociraptor v0.77.2, read from each artifact's definition
 * (its final SELECT) and the plugins it calls. Facts only; no VQL copied.
 */
import type { z } from "zod";
import type { ArtifactEntrySchema } from "./schema.js";
import { NETSTAT_STATUS_DARWIN, POSIX_PROCESS_NOTE, SOCKET_TYPE, col, hashColumn, opt } from "./shared.js";

type Entry = z.input<typeof ArtifactEntrySchema>;
type Os = "windows" | "linux" | "darwin";
const L: Os[] = ["linux"];
const M: Os[] = ["darwin"];

/** Linux.Network.Netstat's two sources differ only in the leading Type column of TCP6. */
const linuxNetstat = (tcp6: boolean) => [
  ...(tcp6 ? [col("Type", "string", { values: ["TCP6"] })] : []),
  col("inode", "string"),
  opt("State", "string", {
    values: ["Established", "Syn Sent", "Time Wait", "Listening"],
    note: "StateLookup maps only /proc/net/tcp states 01, 02, 06 and 0A; others are null. The default StateRegex (LISTEN|ESTAB, case-insensitive) keeps Established and Listening only",
  }),
  col("uid", "string"),
  opt("ProcessInfo", "object", {
    note: "the socket's owner found through /proc/*/fd; null when no process holds the inode",
    fields: [
      col("Pid", "integer"),
      col("Command", "string", { note: "/proc/PID/comm, trailing newline included" }),
      col("CommandLine", "string", { note: "/proc/PID/cmdline: arguments separated by NUL characters" }),
      col("Filename", "string", { example: "socket:[48211]" }),
      col("Type", "string", { values: ["socket"] }),
      col("Inode", "string"),
    ],
  }),
  col("LocalAddr", "string", { example: tcp6 ? "::" : "10.20.2.10", note: "ip() of the hex address" }),
  col("LocalPort", "integer"),
  col("RemoteAddr", "string", { example: tcp6 ? "::" : "185.220.101.4", note: "0.0.0.0 (or ::) for listening sockets" }),
  col("RemotePort", "integer"),
];

const cron = [
  opt("Event", "string", { example: "@reboot" }),
  opt("User", "string", {
    note: "the sixth field. Per-user crontabs (/var/spool/cron/...) have no user field, so there this holds the command's first word and Command the rest",
  }),
  opt("Minute", "string"),
  opt("Hour", "string"),
  opt("DayOfMonth", "string"),
  opt("Month", "string"),
  opt("DayOfWeek", "string"),
  col("Command", "string"),
];

export const POSIX: Entry[] = [
  {
    name: "Linux.Sys.Pslist",
    os: ["linux", "darwin"],
    parameters: ["processRegex"],
    coverage: "columns",
    note: "alias MacOS.Sys.Pslist",
    sources: [
      {
        name: "",
        note: POSIX_PROCESS_NOTE,
        columns: [
          col("Pid", "string", { example: "4242", from: "vql/tools/process/api.go:82-98" }),
          col("Ppid", "string", { example: "1" }),
          col("Name", "string"),
          col("CommandLine", "string", { note: "arguments joined with spaces" }),
          col("Exe", "string", { example: "/tmp/.x/kworker (deleted)", note: "readlink of /proc/PID/exe; \" (deleted)\" appended when the file is gone" }),
          hashColumn(),
          col("Username", "string", { example: "www-data" }),
          col("CreateTime", "string", { example: "2026-11-20T09:30:01+01:00", from: "vql/psutils/process_posix.go:69-72", note: "RFC 3339 text in the endpoint's local time zone (formatted by the client, not a time value)" }),
          opt("RSS", "integer"),
          col("Deleted", "boolean", { note: "Exe ends in (deleted)" }),
        ],
      },
    ],
  },
  {
    name: "Generic.System.Pstree",
    os: ["windows", "linux", "darwin"],
    parameters: ["CommandlineRegex", "PidFilter", "CallChainFilter", "CallChainSep", "IncludePstree"],
    coverage: "columns",
    sources: [
      {
        name: "",
        note: POSIX_PROCESS_NOTE,
        columns: [
          col("Pid", "string"),
          col("Ppid", "string"),
          col("Name", "string"),
          col("Username", "string"),
          col("Exe", "string"),
          col("CommandLine", "string"),
          col("StartTime", "timestamp", { from: "vql/tools/process/dummy.go:191-209" }),
          col("EndTime", "timestamp", { note: "0001-01-01T00:00:00Z while the process runs" }),
          col("CallChain", "string", { example: "systemd -> sshd -> bash", note: "joined with CallChainSep (\" -> \")" }),
          opt("PSTree", "object", { when: "IncludePstree=Y" }),
        ],
      },
    ],
  },
  {
    name: "Linux.Network.Netstat",
    os: L,
    parameters: ["StateRegex"],
    coverage: "columns",
    note: "parses /proc/net/tcp and tcp6 in VQL (not netstat()): no Status, Laddr or Raddr columns, no UDP, no timestamp",
    sources: [
      { name: "TCP4", columns: linuxNetstat(false) },
      { name: "TCP6", columns: linuxNetstat(true) },
    ],
  },
  {
    name: "MacOS.Network.Netstat",
    os: M,
    parameters: ["IPRegex", "PortRegex", "ProcessNameRegex", "UsernameRegex", "ConnectionStatusRegex", "ProcessPathRegex", "CommandLineRegex", "CallChainRegex", "AlsoCollectFullProcessTree"],
    coverage: "columns",
    sources: [
      {
        name: "",
        columns: [
          col("Laddr", "string"),
          col("Lport", "integer"),
          col("Raddr", "string"),
          col("Rport", "integer"),
          col("Pid", "integer"),
          col("Status", "string", { values: NETSTAT_STATUS_DARWIN, from: "vql/networking/netstat_darwin.go:152-164", note: "default ConnectionStatusRegex keeps LISTEN and ESTAB" }),
          SOCKET_TYPE,
          opt("ProcInfo", "object", { note: "the process tracker's data for Pid (pslist() columns)", openFields: true, fields: [opt("Name", "string"), opt("Exe", "string"), opt("CommandLine", "string"), opt("Username", "string"), opt("Pid", "string"), opt("Ppid", "string")] }),
          col("CallChain", "string"),
          opt("ChildrenTree", "object", { when: "AlsoCollectFullProcessTree=Y" }),
        ],
      },
    ],
  },
  {
    name: "Linux.Sys.Users",
    os: L,
    parameters: ["PasswordFile"],
    coverage: "columns",
    sources: [{ name: "", note: "/etc/passwd fields as text; no times", columns: [col("User", "string"), col("Description", "string"), col("Uid", "string"), col("Gid", "string"), col("Homedir", "string"), col("Shell", "string")] }],
  },
  {
    name: "Linux.Sys.LastUserLogin",
    os: L,
    parameters: ["wtmpGlobs", "MaxCount", "LoginType", "recent_x_days", "excluded_users"],
    coverage: "columns",
    sources: [
      {
        name: "",
        note: "wtmp records; excluded_users defaults to ansible|LOGIN",
        columns: [
          col("OSPath", "string", { example: "/var/log/wtmp" }),
          col("login_Type", "string", { values: ["USER_PROCESS", "LOGIN_PROCESS", "RUN_LVL", "BOOT_TIME", "INIT_PROCESS"], note: "only USER_PROCESS and LOGIN_PROCESS with the default LoginType (Interactive Sessions)" }),
          col("login_ID", "string"),
          col("login_PID", "integer"),
          col("login_Host", "string", { example: "185.220.101.4", note: "ut_host: the remote host as text, \"\" for console logins" }),
          col("login_User", "string"),
          col("login_IpAddr", "string", { example: "185.220.101.4", note: "ip(netaddr4_le=...) of the record's IPv4 address; 0.0.0.0 for local logins" }),
          col("login_Terminal", "string", { example: "pts/0" }),
          col("login_time", "timestamp"),
          opt("logout_time", "timestamp", { note: "the matching DEAD_PROCESS record; null while logged in" }),
        ],
      },
    ],
  },
  {
    name: "Linux.Sys.Services",
    os: L,
    parameters: [],
    coverage: "columns",
    sources: [
      {
        name: "",
        note: "grok of `systemctl list-units --type=service`: the unit state only, no unit file path, ExecStart or times",
        columns: [col("Unit", "string", { example: "ssh.service" }), col("Load", "string", { example: "loaded" }), col("Active", "string", { example: "active" }), col("Sub", "string", { example: "running" }), col("Description", "string")],
      },
    ],
  },
  {
    name: "Linux.Sys.Crontab",
    os: L,
    parameters: ["cronTabGlob", "cronTabScripts", "Length"],
    coverage: "columns",
    sources: [
      { name: "CronTabs", note: "no time column", columns: [...cron, col("Path", "string", { example: "/etc/crontab" })] },
      { name: "CronScripts", columns: [col("Mtime", "timestamp"), col("OSPath", "string"), col("Content", "string")] },
      { name: "Uploaded", columns: [col("OSPath", "string"), opt("Upload", "object")] },
    ],
  },
  {
    name: "Linux.Ssh.AuthorizedKeys",
    os: L,
    parameters: ["sshKeyFilesGlob", "keyTypes", "AlsoUpload"],
    coverage: "columns",
    sources: [
      {
        name: "",
        note: "default glob /home/*/.ssh/authorized_keys* (root's keys are not included); no user or time column",
        columns: [
          col("OSPath", "string", { example: "/home/deploy/.ssh/authorized_keys" }),
          opt("_Upload", "object"),
          col("options", "any", { note: "\"\" or the list of key options" }),
          col("keytype", "string", { example: "ssh-ed25519" }),
          col("base64key", "string"),
          col("comment", "string"),
        ],
      },
    ],
  },
  {
    name: "Linux.Sys.BashHistory",
    os: L,
    parameters: ["TargetGlob", "SearchRegex", "WhitelistRegex"],
    coverage: "columns",
    sources: [{ name: "", note: "one row per line of /{root,home/*}/.*_history; no user or time column", columns: [col("Line", "string"), col("OSPath", "string", { example: "/home/deploy/.bash_history" })] }],
  },
  {
    name: "Linux.Forensics.Journal",
    os: L,
    parameters: ["JournalGlob", "IdentifierRegex", "IocRegex", "DateAfter", "DateBefore", "AlsoUpload"],
    coverage: "columns",
    sources: [
      { name: "Uploads", columns: [col("OSPath", "string"), opt("Upload", "object")], note: "rows only with AlsoUpload" },
      {
        name: "",
        note: "SELECT * of parse_journald(); the shape below is the one the artifact's own notebook reads",
        columns: [
          col("System", "object", { openFields: true, fields: [col("Timestamp", "timestamp"), opt("_EXE", "string"), opt("_CMDLINE", "string"), opt("_PID", "any")] }),
          col("EventData", "object", { openFields: true, fields: [opt("MESSAGE", "string"), opt("SYSLOG_IDENTIFIER", "string"), opt("PRIORITY", "any")] }),
        ],
      },
    ],
  },
  {
    name: "Linux.Syslog.SSHLogin",
    os: L,
    parameters: ["syslogAuthLogPath", "SSHGrok"],
    coverage: "columns",
    sources: [{ name: "", columns: [col("Time", "timestamp", { note: "syslog time has no year or zone" }), col("IP", "string"), col("Result", "string", { example: "Accepted" }), col("Method", "string", { example: "publickey" }), col("AttemptedUser", "string"), col("OSPath", "string")] }],
  },
  {
    name: "Linux.Ssh.KnownHosts",
    os: L,
    parameters: ["sshKnownHostsFiles"],
    coverage: "columns",
    sources: [
      { name: "", columns: [col("Uid", "string"), col("User", "string"), col("OSPath", "string"), col("Hostname", "string"), col("Type", "string"), col("PublicKey", "string")] },
      { name: "HostPublicKeys", columns: [col("Type", "string"), col("PublicKey", "string"), col("KeyName", "string"), col("Fqdn", "string")] },
    ],
  },
  { name: "Linux.Sys.SUID", os: L, parameters: ["GlobExpression"], coverage: "columns", sources: [{ name: "", columns: [col("Mode", "string"), col("OSPath", "string"), col("Size", "integer"), col("Mtime", "timestamp"), col("OwnerID", "integer"), col("GroupID", "integer")] }] },
  {
    name: "Linux.Remediation.Quarantine",
    os: L,
    parameters: ["pathToNFT", "TableName", "ForbiddenTestURL", "MessageBox", "RemovePolicy"],
    coverage: "columns",
    sources: [{ name: "", note: "one row per step taken", columns: [col("Time", "timestamp"), col("Result", "string")] }],
  },
  { name: "Linux.Detection.Yara.Process", os: L, parameters: ["ProcessRegex", "PidRegex", "UploadHits", "YaraUrl", "YaraRule", "NumberOfHits", "ContextBytes", "ExePathWhitelist"], coverage: "parameters", sources: [] },
  { name: "Linux.Search.FileFinder", os: L, parameters: ["SearchFilesGlob", "SearchFilesGlobTable", "YaraRule", "Upload_File", "Calculate_Hash", "MoreRecentThan", "ModifiedBefore", "ExcludePathRegex", "LocalFilesystemOnly", "OneFilesystem", "DoNotFollowSymlinks", "ROOT", "ACCESSOR", "UPLOAD_IS_RESUMABLE"], coverage: "parameters", sources: [] },
  {
    name: "MacOS.System.Users",
    os: M,
    parameters: ["UserPlistGlob", "OnlyShowRealUsers"],
    coverage: "columns",
    sources: [
      {
        name: "",
        columns: [col("Name", "string"), col("RealName", "string"), col("Uid", "string"), col("Gid", "string"), col("UUid", "string"), col("UserShell", "string"), col("HomeDir", "string"), opt("AppleId", "string"), opt("CreationTime", "timestamp"), opt("FailedLoginCount", "integer"), opt("FailedLoginTimestamp", "timestamp"), opt("PasswordLastSetTime", "timestamp")],
      },
    ],
  },
  {
    name: "MacOS.Detection.Autoruns",
    os: M,
    parameters: ["sandboxed_loginitems", "cronTabGlob", "LaunchAgentsDaemonsGlob", "ScriptingAdditionsGlobs", "StartupItemsGlobs", "MiscItemsGlobs", "LoginItemsGlobs"],
    coverage: "columns",
    sources: [
      { name: "Sandboxed Loginitems", columns: [col("OSPath", "string"), col("Mtime", "timestamp"), opt("Disabled", "any"), opt("Upload", "object")] },
      { name: "crontabs", columns: [opt("Event", "string"), col("Mtime", "timestamp"), col("User", "string", { note: "the crontab file's name" }), opt("Minute", "string"), opt("Hour", "string"), opt("DayOfMonth", "string"), opt("Month", "string"), opt("DayOfWeek", "string"), col("Command", "string"), col("Path", "string"), opt("Upload", "object")] },
      { name: "LaunchAgentsDaemons", columns: [col("OSPath", "string", { example: "/Library/LaunchDaemons/com.apple.update.plist" }), col("Mtime", "timestamp"), opt("LaunchdConfig", "object", { note: "the plist as parsed (launchd.plist keys)", openFields: true, fields: [opt("Label", "string"), opt("Program", "string"), opt("ProgramArguments", "strings"), opt("RunAtLoad", "boolean")] }), opt("Program", "string", { note: "Program, else ProgramArguments[0]" }), hashColumn(), opt("Upload", "object")] },
      { name: "ScriptingAdditions", columns: [col("OSPath", "string"), col("Mtime", "timestamp"), opt("Upload", "object")] },
      { name: "StartupItems", columns: [col("OSPath", "string"), col("Mtime", "timestamp"), opt("Upload", "object")] },
      { name: "MiscItems", columns: [col("OSPath", "string"), col("Mtime", "timestamp"), opt("Upload", "object")] },
      { name: "LoginItems", columns: [col("OSPath", "string"), col("Mtime", "timestamp"), opt("LoginItemConfig", "object"), opt("Upload", "object")] },
    ],
  },
  {
    name: "MacOS.System.QuarantineEvents",
    os: M,
    parameters: ["QuarantineGlob"],
    coverage: "columns",
    sources: [{ name: "", columns: [col("DownloadTime", "timestamp"), opt("DownloadURL", "string"), opt("Origin", "string"), opt("AgentName", "string"), opt("AgentBundle", "string"), col("User", "string"), col("EventUUID", "string")] }],
  },
  {
    name: "MacOS.Detection.InstallHistory",
    os: M,
    parameters: ["InstallHistoryGlob"],
    coverage: "columns",
    sources: [{ name: "Install History", columns: [col("DisplayName", "string"), col("DisplayVersion", "string"), col("ProcessName", "string"), col("InstallDate", "any", { note: "the plist date, or \"\"" }), col("ContentType", "string"), col("PackageIdentifiers", "any")] }],
  },
  {
    name: "MacOS.Applications.Chrome.History",
    os: M,
    parameters: ["historyGlobs", "urlSQLQuery", "userRegex"],
    coverage: "columns",
    sources: [{ name: "", columns: [col("User", "string"), col("OSPath", "string"), col("Mtime", "timestamp"), col("visited_url", "string"), opt("title", "string"), col("visit_count", "integer"), col("typed_count", "integer"), col("last_visit_time", "timestamp")] }],
  },
  { name: "MacOS.Applications.MRU", os: M, parameters: ["FinderPlistPath"], coverage: "parameters", sources: [] },
  {
    name: "MacOS.Remediation.Quarantine",
    os: M,
    parameters: ["PfctlPath", "PFConfigPath", "AnchorName", "TokenFile", "ForbiddenTestURL", "ForbiddenTestTimeout", "CurlPath", "AdditionalAllowedDestinations", "MessageBox", "RemovePolicy", "VelociraptorURL"],
    coverage: "columns",
    sources: [{ name: "", note: "one row per step taken", columns: [col("Time", "timestamp"), col("Result", "string")] }],
  },
  {
    name: "Generic.Client.Info",
    os: ["windows", "linux", "darwin"],
    parameters: [],
    coverage: "columns",
    sources: [
      {
        name: "BasicInformation",
        columns: [col("Name", "string"), col("BuildTime", "string"), col("Version", "string"), opt("build_url", "string"), opt("install_time", "any"), opt("Labels", "strings"), col("Hostname", "string"), col("OS", "string", { values: ["windows", "linux", "darwin"] }), col("Architecture", "string"), col("Platform", "string"), col("PlatformVersion", "string"), col("KernelVersion", "string"), col("Fqdn", "string"), opt("MACAddresses", "any")],
      },
      { name: "DetailedInfo", columns: [col("Param", "string"), opt("Value", "any")] },
      { name: "LinuxInfo", columns: [opt("Computer Info", "any"), opt("Network Info", "any")] },
      { name: "WindowsInfo", columns: [opt("Computer Info", "any"), opt("Network Info", "any")] },
      { name: "Users", note: "windows only: Windows.Sys.Users' Name, Description and Mtime", columns: [opt("Name", "string"), col("Description", "string"), col("LastLogin", "timestamp", { note: "the profile key's Mtime, not a logon" })] },
    ],
  },
  {
    name: "Generic.Forensic.Timeline",
    os: ["windows", "linux", "darwin"],
    parameters: ["timelineGlob", "timelineAccessor"],
    coverage: "columns",
    sources: [{ name: "", note: "two unnamed sources with one column set", columns: [col("Md5", "integer"), col("OSPath", "string"), opt("Inode", "any"), col("Mode", "string"), col("Uid", "any"), col("Gid", "any"), col("Size", "integer"), col("Atime", "timestamp"), col("Mtime", "timestamp"), col("Ctime", "timestamp")] }],
  },
  { name: "Generic.Detection.Yara.Glob", os: ["windows", "linux", "darwin"], parameters: ["PathGlob", "SizeMax", "SizeMin", "UploadHits", "DateAfter", "DateBefore", "YaraUrl", "YaraRule", "NumberOfHits", "ContextBytes"], coverage: "parameters", sources: [] },
  { name: "Server.Utils.DeleteClient", type: "SERVER", os: [], parameters: ["ClientIdList", "ReallyDoIt"], coverage: "parameters", sources: [] },
  {
    name: "Server.Utils.CreateCollector",
    type: "SERVER",
    os: [],
    parameters: ["OS", "artifacts", "encryption_scheme", "encryption_args", "parameters", "target", "target_args", "opt_verbose", "opt_banner", "opt_prompt", "opt_admin", "opt_tempdir", "opt_level", "opt_concurrency", "opt_format", "opt_output_directory", "opt_filename_template", "opt_collector_filename", "opt_cpu_limit", "opt_progress_timeout", "opt_timeout", "opt_version", "opt_delete_at_exit", "StandardCollection", "S3Collection", "GCSCollection", "AzureSASURL", "SMBCollection", "SFTPCollection", "WebDAVCollection", "CommonCollections", "CloudCollection", "FetchBinaryOverride"],
    coverage: "parameters",
    sources: [],
  },
];
