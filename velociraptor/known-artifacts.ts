/**
 * Built-in Velociraptor artifact names the prompts and collection templates may recommend, per OS, each checked
 * against artifacts/definitions/ in the Velocidex/velociraptor repository. Prompts and templates are tested against
 * this list so a playbook never sends a model after an artifact that does not exist.
 */
export const KNOWN_ARTIFACTS = {
  generic: ["Generic.Client.Info", "Generic.System.Pstree", "Generic.Forensic.Timeline", "Generic.Detection.Yara.Glob"],
  windows: [
    "Windows.System.Pslist",
    "Windows.Network.Netstat",
    "Windows.Network.NetstatEnriched",
    "Windows.Forensics.Prefetch",
    "Windows.EventLogs.EvtxHunter",
    "Windows.EventLogs.RDPAuth",
    "Windows.System.Services",
    "Windows.System.TaskScheduler",
    "Windows.Sys.Users",
    "Windows.Sys.StartupItems",
    "Windows.Detection.Amcache",
    "Windows.NTFS.MFT",
    "Windows.Forensics.Lnk",
    "Windows.Forensics.SRUM",
    "Windows.Persistence.PermanentWMIEvents",
    "Windows.Detection.Yara.Process",
    "Windows.Memory.Acquisition",
    "Windows.KapeFiles.Targets",
    "Windows.Remediation.Quarantine",
    "Windows.Forensics.Shellbags",
    "Windows.Forensics.Usn",
    "Windows.System.DNSCache",
    "Windows.System.Powershell.PSReadline",
    "Windows.Search.FileFinder",
  ],
  linux: [
    "Linux.Sys.Pslist",
    "Linux.Network.Netstat",
    "Linux.Sys.Users",
    "Linux.Sys.Crontab",
    "Linux.Sys.BashHistory",
    "Linux.Sys.LastUserLogin",
    "Linux.Ssh.AuthorizedKeys",
    "Linux.Syslog.SSHLogin",
    "Linux.Remediation.Quarantine",
    "Linux.Ssh.KnownHosts",
    "Linux.Sys.Services",
    "Linux.Sys.SUID",
    "Linux.Detection.Yara.Process",
    "Linux.Search.FileFinder",
  ],
  macos: [
    "MacOS.Remediation.Quarantine",
    "MacOS.Network.Netstat",
    "MacOS.System.Users",
    "MacOS.Detection.Autoruns",
    "MacOS.System.QuarantineEvents",
    "MacOS.Detection.InstallHistory",
    "MacOS.Applications.Chrome.History",
    "MacOS.Applications.MRU",
  ],
} as const;

export const ALL_KNOWN_ARTIFACTS: ReadonlySet<string> = new Set(Object.values(KNOWN_ARTIFACTS).flat());

/**
 * Built-ins that exist but that no prompt or template recommends: server-side utilities and event artifacts the test
 * fixtures carry. Checked against artifacts/definitions/ in Velocidex/velociraptor (cd02ac663):
 * Server/Utils/CreateCollector.yaml, Server/Utils/DeleteClient.yaml, Windows/Events/ProcessCreation.yaml.
 */
export const OTHER_BUILTIN_ARTIFACTS: readonly string[] = ["Server.Utils.CreateCollector", "Server.Utils.DeleteClient", "Windows.Events.ProcessCreation"];

/** Names a built-in answers to besides its own (`aliases:`): Linux/Sys/Pslist.yaml L5-6 declares MacOS.Sys.Pslist. */
export const ARTIFACT_ALIASES: Readonly<Record<string, string>> = { "MacOS.Sys.Pslist": "Linux.Sys.Pslist" };

/** Whether Velociraptor ships an artifact of this name (the project's list: recommended, other built-ins, aliases). */
export function isBuiltinArtifact(name: string): boolean {
  return ALL_KNOWN_ARTIFACTS.has(name) || OTHER_BUILTIN_ARTIFACTS.includes(name) || name in ARTIFACT_ALIASES;
}
