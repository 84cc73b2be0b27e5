/**
 * Built-in Velociraptor artifact names the prompts may recommend, per OS. Prompts are checked against this list in
 * tests so a playbook never sends a model after an artifact that does not exist.
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
  ],
  macos: ["MacOS.Remediation.Quarantine"],
} as const;

export const ALL_KNOWN_ARTIFACTS: ReadonlySet<string> = new Set(Object.values(KNOWN_ARTIFACTS).flat());
