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
