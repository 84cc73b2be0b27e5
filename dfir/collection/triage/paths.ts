/**
 * Where a binary lives, as an analyst reads it: a temp folder, a folder any user can write to, a hidden folder, or
 * a system/program folder. Also: the executable a command line starts, the paths a command line mentions, and
 * whether a signed binary sits in its publisher's own folder (OneDrive under AppData\Local\Microsoft is fine; an
 * unsigned file there is not).
 */

export interface PathClass {
  /** Temp folders: %TEMP%, C:\Windows\Temp, /tmp, /var/tmp, /dev/shm. */
  temp: boolean;
  /** Folders ordinary users can write to: profiles (AppData, Downloads, Desktop…), C:\Users\Public, C:\ProgramData, home directories. */
  userWritable: boolean;
  /** A dot-folder or dot-file that is not an ordinary configuration folder directly in a home directory. */
  hidden: boolean;
}

const WIN_TEMP = /\\(windows\\temp|appdata\\local\\temp|temp|tmp)\\/;
const WIN_WRITABLE = /^[a-z]:\\(users\\[^\\]+\\|programdata\\|perflogs\\|\$recycle\.bin\\)|^\\\\/;
const UNIX_TEMP = /^\/(private\/)?(tmp|var\/tmp)\/|^\/(dev|run)\/shm\//;
const HOME = /^\/(home\/[^/]+|users\/[^/]+|root|var\/root)(\/|$)/;

/** Lower-cased Windows path with environment prefixes expanded and device/volume prefixes removed. */
export function normaliseWindowsPath(p: string): string {
  let s = p.trim().replace(/^"|"$/g, "").toLowerCase();
  s = s.replace(/^\\\?\?\\/, "").replace(/^\\systemroot\\/, "c:\\windows\\");
  s = s.replace(/^%(windir|systemroot)%/, "c:\\windows").replace(/^%programdata%/, "c:\\programdata").replace(/^%programfiles%/, "c:\\program files");
  s = s.replace(/^%(temp|tmp)%/, "c:\\users\\%user%\\appdata\\local\\temp").replace(/^%(appdata)%/, "c:\\users\\%user%\\appdata\\roaming").replace(/^%localappdata%/, "c:\\users\\%user%\\appdata\\local");
  s = s.replace(/^\$env:(temp|tmp)/, "c:\\users\\%user%\\appdata\\local\\temp").replace(/^\$env:appdata/, "c:\\users\\%user%\\appdata\\roaming");
  // Prefetch's file-metrics paths start with the volume, not a drive letter.
  s = s.replace(/^\\volume\{[^}]+\}/, "c:").replace(/^\\device\\harddiskvolume\d+/, "c:");
  return s;
}

const isWindowsPath = (p: string) => /^"?([a-z]:\\|\\\\|%[a-z]+%|\\systemroot\\|\\volume\{|\\device\\|\$env:)/i.test(p.trim());

export function classifyPath(raw: string | undefined): PathClass {
  const none = { temp: false, userWritable: false, hidden: false };
  if (!raw) return none;
  if (isWindowsPath(raw)) {
    const p = normaliseWindowsPath(raw);
    return { temp: WIN_TEMP.test(p), userWritable: WIN_WRITABLE.test(p), hidden: false };
  }
  if (!raw.startsWith("/")) return none;
  const p = raw.replace(/ \(deleted\)$/, "");
  const lower = p.toLowerCase();
  const home = HOME.exec(lower);
  const parts = p.split("/").filter(Boolean);
  // A dot-folder right in a home directory (~/.ssh, ~/.nvm, ~/.config) is configuration, not concealment.
  const skip = home ? home[1]!.split("/").length + 1 : 0;
  const hidden = parts.some((c, i) => c.startsWith(".") && c !== "." && c !== ".." && i >= skip);
  return { temp: UNIX_TEMP.test(lower), userWritable: !!home || lower.startsWith("/users/shared/"), hidden };
}

/** The executable a command line starts: the quoted first token, or the first token that looks like a file. */
export function commandExecutable(cmd: string | undefined): string | undefined {
  if (!cmd) return undefined;
  const s = cmd.trim();
  if (s.startsWith('"')) return s.slice(1, s.indexOf('"', 1) > 0 ? s.indexOf('"', 1) : undefined);
  // Unquoted Windows paths with spaces ("C:\Program Files\x\y.exe -a"): take up to the first .exe.
  const exe = /^([a-z]:\\.*?\.(exe|com|bat|cmd))(\s|$)/i.exec(s);
  if (exe) return exe[1];
  return s.split(/\s+/)[0];
}

const PATH_IN_TEXT = /"([a-z]:\\[^"]+?\.(?:exe|dll|ps1|bat|cmd|vbs|js|hta|scr))"|([a-z]:\\[^\s"',;]+?\.(?:exe|dll|ps1|bat|cmd|vbs|js|hta|scr))\b|((?:\$env:|%)(?:temp|tmp|appdata|localappdata)%?\\[^\s"',;]+)|(\/(?:tmp|var\/tmp|dev\/shm|private\/tmp)\/[^\s"';|&]+)/gi;

/** Windows and Unix file paths a command line mentions (arguments included). */
export function pathsIn(text: string | undefined): string[] {
  if (!text) return [];
  return [...text.matchAll(PATH_IN_TEXT)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]!).filter(Boolean);
}

// Words in publisher names that say nothing about which folder is theirs.
const GENERIC = new Set(["inc", "llc", "ltd", "corp", "corporation", "company", "co", "gmbh", "ag", "sa", "bv", "limited", "software", "group", "the", "technologies", "technology", "systems", "communications", "video", "foundation", "pty", "international", "holdings", "services"]);

/** The distinctive words of a certificate subject's organisation (O=) or common name (CN=). */
export function publisherWords(subject: string | undefined): string[] {
  if (!subject) return [];
  const org = /(?:^|,\s*)O=([^,]+)/.exec(subject)?.[1] ?? /(?:^|,\s*)CN=([^,]+)/.exec(subject)?.[1] ?? "";
  return org
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length >= 3 && !GENERIC.has(w));
}

/** A signed binary in a folder named after its publisher (…\Microsoft\OneDrive\…, …\Zoom\bin\…). */
export function inPublisherFolder(path: string | undefined, subject: string | undefined): boolean {
  if (!path) return false;
  const folders = (isWindowsPath(path) ? normaliseWindowsPath(path).split("\\") : path.toLowerCase().split("/")).slice(0, -1);
  return publisherWords(subject).some((w) => folders.some((f) => f.split(/[^a-z0-9]+/).includes(w)));
}

/** Program or system folders ordinary users cannot write to. */
export function isSystemOrProgramFolder(path: string | undefined): boolean {
  if (!path) return false;
  if (isWindowsPath(path)) return /^c:\\(windows|program files|program files \(x86\))\\/.test(normaliseWindowsPath(path));
  return /^\/(usr|bin|sbin|lib|lib64|opt|snap|system|applications|library)\//i.test(path);
}

export function baseName(path: string | undefined): string {
  if (!path) return "";
  return path.replace(/ \(deleted\)$/, "").split(/[\\/]/).pop()!.toLowerCase();
}
