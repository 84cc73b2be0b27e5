/**
 * File generators for agent rollout where Pulumi does not reach: a Windows GPO package, an Ansible role and
 * playbook, and an offline collector spec. They write files and return their paths; nothing runs remotely.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

function write(dir: string, name: string, content: string, mode = 0o644): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

/** Windows: the official MSI + the deployment's client config, deployed by a GPO startup script. */
export function generateGpoPackage(o: { outDir: string; clientConfigYaml: string; version: string; labels?: string[]; domainController?: string }): string[] {
  const share = o.domainController ? `\\\\${o.domainController}\\NETLOGON\\Velociraptor` : "\\\\<your-dc>\\NETLOGON\\Velociraptor";
  const msi = `velociraptor-v${o.version}-windows-amd64.msi`;
  return [
    write(o.outDir, "client.config.yaml", o.clientConfigYaml, 0o600),
    write(
      o.outDir,
      "install-velociraptor.ps1",
      `# GPO computer startup script: installs the Velociraptor client with this deployment's config.
$ErrorActionPreference = "Stop"
$share = "${share}"
$dest = "$env:ProgramFiles\\Velociraptor"
if (-not (Get-Service -Name Velociraptor -ErrorAction SilentlyContinue)) {
  Start-Process msiexec.exe -Wait -ArgumentList "/i", "$share\\${msi}", "/qn"
}
New-Item -ItemType Directory -Force -Path $dest | Out-Null
Copy-Item "$share\\client.config.yaml" "$dest\\client.config.yaml" -Force
icacls "$dest\\client.config.yaml" /inheritance:r /grant:r "SYSTEM:(R)" "Administrators:(R)" | Out-Null
Restart-Service Velociraptor
`,
    ),
    write(
      o.outDir,
      "README.md",
      `# Velociraptor GPO rollout

1. Download \`${msi}\` from https://github.com/Velocidex/velociraptor/releases/tag/v${o.version} and check its SHA-256.
2. Copy it, \`client.config.yaml\` and \`install-velociraptor.ps1\` to \`${share}\` (readable by Domain Computers only:
   the config lets a machine enrol).
3. Group Policy Management → new GPO "Velociraptor" → Computer Configuration → Policies → Windows Settings → Scripts →
   Startup → PowerShell Scripts → add \`${share}\\install-velociraptor.ps1\`.
4. Link the GPO to the OUs to cover${o.labels?.length ? `; label them afterwards (${o.labels.join(", ")}) with label_client` : ""}.
5. Check enrolment with \`list_clients search=recent:\` (MCP) or the GUI.

Alternative: repack the MSI with the config embedded (\`velociraptor config repack --msi ${msi} client.config.yaml out.msi\`)
and assign it as a GPO software installation package.
`,
    ),
  ];
}

/** Ansible role + playbook installing the client on Linux (systemd), Windows (MSI) and macOS (launchd). */
export function generateAnsiblePlaybook(o: { outDir: string; clientConfigYaml: string; version: string; include: { linux: boolean; windows: boolean; macos: boolean } }): string[] {
  const base = `https://github.com/Velocidex/velociraptor/releases/download/v${o.version}/velociraptor-v${o.version}`;
  const tasks: unknown[] = [];
  if (o.include.linux)
    tasks.push(
      { name: "Linux: install binary", when: "ansible_system == 'Linux'", "ansible.builtin.get_url": { url: `${base}-linux-amd64`, dest: "/usr/local/bin/velociraptor", mode: "0755", checksum: "sha256:{{ velociraptor_linux_sha256 }}" } },
      { name: "Linux: config", when: "ansible_system == 'Linux'", "ansible.builtin.copy": { src: "client.config.yaml", dest: "/etc/velociraptor/client.config.yaml", mode: "0600" } },
      { name: "Linux: service", when: "ansible_system == 'Linux'", "ansible.builtin.copy": { dest: "/etc/systemd/system/velociraptor_client.service", content: "[Unit]\nDescription=Velociraptor client\n[Service]\nExecStart=/usr/local/bin/velociraptor --config /etc/velociraptor/client.config.yaml client\nRestart=always\n[Install]\nWantedBy=multi-user.target\n" } },
      { name: "Linux: start", when: "ansible_system == 'Linux'", "ansible.builtin.systemd": { name: "velociraptor_client", enabled: true, state: "restarted", daemon_reload: true } },
    );
  if (o.include.windows)
    tasks.push({ name: "Windows: install MSI", when: "ansible_os_family == 'Windows'", "ansible.windows.win_package": { path: `${base}-windows-amd64.msi`, state: "present" } }, { name: "Windows: config", when: "ansible_os_family == 'Windows'", "ansible.windows.win_copy": { src: "client.config.yaml", dest: "C:\\Program Files\\Velociraptor\\client.config.yaml" } });
  if (o.include.macos)
    tasks.push({ name: "macOS: install binary", when: "ansible_system == 'Darwin'", "ansible.builtin.get_url": { url: `${base}-darwin-amd64`, dest: "/usr/local/bin/velociraptor", mode: "0755", checksum: "sha256:{{ velociraptor_darwin_sha256 }}" } });
  return [
    write(join(o.outDir, "roles", "velociraptor_client", "files"), "client.config.yaml", o.clientConfigYaml, 0o600),
    write(join(o.outDir, "roles", "velociraptor_client", "tasks"), "main.yml", stringify(tasks)),
    write(o.outDir, "playbook.yml", stringify([{ name: "Install the Velociraptor client", hosts: "all", become: true, roles: ["velociraptor_client"] }])),
  ];
}

/** `velociraptor collector` spec (keys from the reference §5.2). */
export function offlineCollectorSpec(o: { os: "Windows" | "Windows_x86" | "Linux" | "MacOS" | "MacOSArm" | "Generic"; artifacts: Record<string, Record<string, string>>; encryptPassword?: string; target?: "ZIP" }): string {
  return stringify({
    OS: o.os,
    Artifacts: o.artifacts,
    Target: o.target ?? "ZIP",
    TargetArgs: {},
    EncryptionScheme: o.encryptPassword ? "Password" : "None",
    EncryptionArgs: o.encryptPassword ? { password: o.encryptPassword } : {},
    OptVerbose: true,
    OptBanner: true,
    OptPrompt: false,
    OptAdmin: true,
    OptTempdir: "",
    OptLevel: 5,
    OptConcurrency: 2,
    OptFormat: "jsonl",
    OptOutputDirectory: "",
    OptFilenameTemplate: "Collection-%FQDN%-%TIMESTAMP%",
    OptCpuLimit: 0,
    OptProgressTimeout: 1800,
    OptTimeout: 0,
    OptDeleteAtExit: false,
  });
}
