/**
 * Indicator patterns and refanging. Each pattern finds candidates cheaply; the validators in ./extract.ts decide.
 * Patterns are module-level /g regexes reused with lastIndex reset, so scanning allocates only the matches.
 */

export const IOC_TYPES = ["ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "windows_path", "posix_path", "registry_key", "cve", "bitcoin"] as const;
export type IocType = (typeof IOC_TYPES)[number];

// Defanged forms seen in reports and tickets: hxxp://, [.] (.) {.} [dot] (dot), [@] [at], [:]//.
const DEFANG_HINT = /hxxp|fxp|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\[@\]|\[at\]|\(at\)|\[:\]|\[:\/\/\]| dot /i;
const REFANG: [RegExp, string][] = [
  [/\bhxxp(s?)(\[?:\]?\/\/|:\/\/)/gi, "http$1://"],
  [/\bfxp(\[?:\]?\/\/|:\/\/)/gi, "ftp://"],
  [/\[:\/\/\]/g, "://"],
  [/\[:\]/g, ":"],
  [/\s?(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\})\s?/gi, "."],
  [/\s?(?:\[@\]|\[at\]|\(at\))\s?/gi, "@"],
  [/(?<=[a-z0-9]) dot (?=[a-z0-9]+\b)/gi, "."],
];

/** Turns defanged indicators back into their real form (a cheap test first: most text has none). */
export function refang(text: string): string {
  if (!DEFANG_HINT.test(text)) return text;
  let out = text;
  for (const [re, to] of REFANG) out = out.replace(re, to);
  return out;
}

export const RE = {
  url: /\b(?:https?|ftp):\/\/[^\s"'<>`|\\^{}]+/gi,
  email: /\b[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\b/g,
  // Bounded by anything that would make it part of a longer dotted number (versions, OIDs).
  ipv4: /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)/g,
  ipv6: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})(?![\w:])(?:%[\w]+)?/g,
  domain: /(?<![\w@.\-/\\])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{1,62}(?![\w-]|\.\w)/g,
  hash: /(?<![0-9A-Za-z])[0-9A-Fa-f]{32,128}(?![0-9A-Za-z])/g,
  cve: /\bCVE-\d{4}-\d{4,7}\b/gi,
  // Directory components may contain single spaces ("Program Files"); the last component may not.
  windowsPath: /(?<![\w])(?:[A-Za-z]:\\|\\\\\?\\[A-Za-z]:\\|\\\\[\w.$-]+\\[\w.$-]+\\|%[A-Za-z_]+%\\|\\Device\\HarddiskVolume\d+\\)(?:[^\\/:*?"<>|\r\n\t ]+(?: [^\\/:*?"<>|\r\n\t ]+)*\\)*[^\\/:*?"<>|\r\n\t ,;')\]]*/g,
  posixPath: /(?<![\w.:/~-])\/(?:etc|tmp|var|usr|home|root|opt|bin|sbin|lib|lib64|dev\/shm|proc|Users|Library|Applications|System|private|boot|srv|mnt|media|run|Volumes)(?:\/[\w.@+~-]+)+\/?/g,
  registry: /\b(?:HKEY_LOCAL_MACHINE|HKLM|HKEY_CURRENT_USER|HKCU|HKEY_USERS|HKU|HKEY_CLASSES_ROOT|HKCR|HKEY_CURRENT_CONFIG|HKCC)(?:\\(?:[^\\\r\n\t": ]+ )*[^\\\r\n\t": ]+(?=\\))*(?:\\[^\\\r\n\t" ,;')\]]+)/gi,
  bitcoinLegacy: /(?<![0-9A-Za-z])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![0-9A-Za-z])/g,
  bitcoinBech32: /(?<![0-9A-Za-z])bc1[02-9ac-hj-np-z]{11,71}(?![0-9A-Za-z])/gi,
} as const;
