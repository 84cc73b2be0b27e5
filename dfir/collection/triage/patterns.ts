/**
 * Command-line patterns an analyst reads as intrusion: encoded or downloaded PowerShell, a download run straight
 * from a bare IP address, reverse shells, wiping history or switching off defences. Each returns a weighted reason;
 * a download from a named host piped into a shell is weaker than one from a bare IP (installers do the former).
 */
import { isPublicIp } from "../../analysis/iocs/extract.js";

export interface Finding {
  weight: number;
  reason: string;
}

// PowerShell's -e/-enc/-EncodedCommand takes base64 to the end of the word (not "bash -e /path/script.sh").
const ENCODED = /\b(powershell|pwsh)(\.exe)?\b.*\s-e(c|nc|ncodedcommand)?\s+[A-Za-z0-9+/]{16,}={0,2}(\s|$)|frombase64string/i;
const PS_EXEC = /\biex\b|invoke-expression|downloadstring|downloaddata|downloadfile|net\.webclient|start-bitstransfer|certutil(\.exe)?\s+.*-urlcache|bitsadmin(\.exe)?\s+.*\/transfer|mshta(\.exe)?\s+(https?|javascript|vbscript):|regsvr32(\.exe)?\s+.*\/i:https?|rundll32(\.exe)?\s+.*javascript:/i;
const REVERSE_SHELL = /\/dev\/(tcp|udp)\/|\bn(c|cat)\s+(-\S+\s+)*-\S*e\s|\bbash\s+-i\s*>&|socat\s+.*exec:|python[0-9.]*\s+-c\s+['"]?import\s+(socket|pty)|pty\.spawn\(/i;
const ANTI_FORENSICS =
  /\bhistory\s+-c\b|\bunset\s+HISTFILE\b|HISTFILE=\/dev\/null|set-mppreference\s+.*-disable\w*\s+\$?true|add-mppreference\s+.*-exclusion|wevtutil(\.exe)?\s+cl\b|clear-eventlog|vssadmin(\.exe)?\s+delete\s+shadows|wbadmin(\.exe)?\s+delete\s+catalog|bcdedit(\.exe)?\s+.*recoveryenabled\s+no|rm\s+-rf?\s+\/var\/log\b/i;
const URL = /\b(?:https?|ftp):\/\/([^/\s:'"]+)(?::\d+)?[^\s'"|;]*/gi;
const FETCH = /\b(curl|wget|iwr|invoke-webrequest|invoke-restmethod|irm|start-bitstransfer|downloadstring|downloadfile)\b/i;
const RUN_AFTER = /\|\s*(sudo\s+)?(ba|da|z|k)?sh\b|\|\s*python[0-9.]*\b|\|\s*perl\b|chmod\s+\+?[0-7]*x|start-process|\biex\b|invoke-expression|;\s*\.\/|&&\s*\.\/|-O-\s*\|/i;

const hostIsIp = (host: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");

/** Everything notable about one command line or shell line, strongest first. */
export function commandFindings(text: string | undefined): Finding[] {
  if (!text) return [];
  const out: Finding[] = [];
  if (REVERSE_SHELL.test(text)) out.push({ weight: 4, reason: "reverse shell or interactive shell upgrade" });
  if (ANTI_FORENSICS.test(text)) out.push({ weight: 4, reason: "wipes history or logs, or switches off defences" });
  const hosts = [...text.matchAll(URL)].map((m) => m[1]!.toLowerCase());
  const fetches = FETCH.test(text) || hosts.length > 0;
  const runs = RUN_AFTER.test(text);
  const ipHost = hosts.find(hostIsIp);
  if (fetches && ipHost) out.push({ weight: runs ? 4 : 3, reason: `${runs ? "downloads and runs" : "downloads"} a file from the bare IP address ${ipHost}` });
  else if (fetches && runs && hosts.length) out.push({ weight: 2, reason: `pipes a download from ${hosts[0]} into an interpreter` });
  if (ENCODED.test(text)) out.push({ weight: 3, reason: "encoded command line" });
  else if (PS_EXEC.test(text)) out.push({ weight: 3, reason: "downloads or evaluates code in memory (IEX, DownloadString, certutil/bitsadmin/mshta)" });
  return out.sort((a, b) => b.weight - a.weight);
}

/** Public IPv4 addresses a command line talks to (for corroboration with connections and DNS). */
export function publicIpsIn(text: string | undefined): string[] {
  if (!text) return [];
  return [...text.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})\b/g)].map((m) => m[1]!).filter(isPublicIp);
}

/** Office documents, PDF readers and mail clients should not start shells or script hosts. */
export const DOCUMENT_APPS = new Set(["winword.exe", "excel.exe", "powerpnt.exe", "outlook.exe", "onenote.exe", "msaccess.exe", "mspub.exe", "visio.exe", "acrord32.exe", "acrobat.exe", "wordpad.exe", "hwp.exe"]);
/** Web, application and database servers should not start shells either. */
export const SERVER_APPS = /^(php-fpm[0-9.]*|php-cgi|php|nginx|httpd|apache2?|lighttpd|w3wp\.exe|httpd\.exe|tomcat[0-9]*|catalina\.sh|redis-server|postgres|mysqld|mariadbd|mongod|sqlservr\.exe)$/i;
export const SHELLS = new Set(["cmd.exe", "powershell.exe", "pwsh.exe", "wscript.exe", "cscript.exe", "mshta.exe", "rundll32.exe", "regsvr32.exe", "certutil.exe", "bitsadmin.exe", "msbuild.exe", "installutil.exe", "wmic.exe", "schtasks.exe", "sh", "bash", "dash", "zsh", "ksh", "python", "python2", "python3", "perl", "ruby", "nc", "ncat", "socat", "curl", "wget"]);
/** Signed Windows binaries that run a payload named on their command line (proxy execution). */
export const PROXY_EXECUTORS = new Set(["rundll32.exe", "regsvr32.exe", "mshta.exe", "msiexec.exe", "installutil.exe", "regasm.exe", "regsvcs.exe", "msbuild.exe", "cscript.exe", "wscript.exe", "odbcconf.exe", "cmstp.exe"]);
/** Names of Windows system processes, which only ever run from System32 (explorer from C:\Windows). */
export const SYSTEM_NAMES = new Set(["svchost.exe", "lsass.exe", "csrss.exe", "services.exe", "winlogon.exe", "smss.exe", "wininit.exe", "explorer.exe", "spoolsv.exe", "taskhostw.exe", "lsm.exe", "conhost.exe", "dllhost.exe", "rundll32.exe"]);

/** Services whose abuse (paste sites, throwaway file drops, tunnels, dynamic DNS) makes a lookup worth a glance. */
export const ABUSED_SERVICES = /(^|\.)(pastebin\.com|paste\.ee|hastebin\.com|ghostbin\.\w+|transfer\.sh|file\.io|temp\.sh|anonfiles\.com|ngrok\.io|ngrok-free\.app|trycloudflare\.com|duckdns\.org|no-ip\.(org|com)|ddns\.net|serveo\.net|loca\.lt)$/i;
