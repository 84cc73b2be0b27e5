/**
 * Indicator exports: CSV, a STIX 2.1 bundle (indicators with STIX patterns; CVEs as vulnerabilities) and a
 * MISP-compatible event. STIX ids are UUIDv5 of the value, so exporting the same indicator twice gives the same id
 * and downstream platforms deduplicate instead of duplicating.
 */
import { v4 as uuidv4, v5 as uuidv5 } from "uuid";
import { csvCell } from "../timeline/format.js";
import type { AggregatedIndicator } from "./aggregate.js";
import type { IocType } from "./patterns.js";

export const IOC_FORMATS = ["json", "csv", "stix", "misp"] as const;
export type IocFormat = (typeof IOC_FORMATS)[number];

// A fixed namespace for Megaraptor's deterministic STIX ids.
const NAMESPACE = "6a3c1f0e-8a9b-5c4d-9e2f-0b1a2c3d4e5f";

export function toCsv(items: AggregatedIndicator[]): string {
  const head = "type,value,count,first_seen,last_seen,clients,artifacts,public";
  return [head, ...items.map((i) => [i.type, i.value, i.count, i.first_seen, i.last_seen, i.clients.join(" "), i.artifacts.join(" "), i.public].map(csvCell).join(","))].join("\n") + "\n";
}

/** A STIX pattern string literal: backslashes and quotes escaped as the STIX grammar requires. */
function lit(v: string): string {
  return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function splitPath(p: string, sep: "\\" | "/"): [string, string] {
  const i = p.lastIndexOf(sep);
  return i <= 0 ? ["", p] : [p.slice(0, i) || sep, p.slice(i + 1)];
}

export function stixPattern(type: IocType, value: string): string {
  switch (type) {
    case "ipv4":
      return `[ipv4-addr:value = ${lit(value)}]`;
    case "ipv6":
      return `[ipv6-addr:value = ${lit(value)}]`;
    case "domain":
      return `[domain-name:value = ${lit(value)}]`;
    case "url":
      return `[url:value = ${lit(value)}]`;
    case "email":
      return `[email-addr:value = ${lit(value)}]`;
    case "md5":
      return `[file:hashes.MD5 = ${lit(value)}]`;
    case "sha1":
      return `[file:hashes.'SHA-1' = ${lit(value)}]`;
    case "sha256":
      return `[file:hashes.'SHA-256' = ${lit(value)}]`;
    case "sha512":
      return `[file:hashes.'SHA-512' = ${lit(value)}]`;
    case "windows_path":
    case "posix_path": {
      const [dir, name] = splitPath(value, type === "windows_path" ? "\\" : "/");
      return dir ? `[file:name = ${lit(name)} AND file:parent_directory_ref.path = ${lit(dir)}]` : `[file:name = ${lit(name)}]`;
    }
    case "registry_key":
      return `[windows-registry-key:key = ${lit(value)}]`;
    case "bitcoin":
      return `[x-megaraptor-cryptocurrency-wallet:address = ${lit(value)}]`;
    case "cve":
      return `[vulnerability:name = ${lit(value)}]`;
  }
}

export function toStix(items: AggregatedIndicator[], o: { caseId?: string; now?: Date } = {}): Record<string, unknown> {
  const now = (o.now ?? new Date()).toISOString();
  const identity = { type: "identity", spec_version: "2.1", id: `identity--${uuidv5("megaraptor", NAMESPACE)}`, created: "2026-01-01T00:00:00.000Z", modified: "2026-01-01T00:00:00.000Z", name: "Megaraptor", identity_class: "system" };
  const objects: Record<string, unknown>[] = [identity];
  for (const i of items) {
    const id = uuidv5(`${i.type}:${i.value}`, NAMESPACE);
    const description = `Seen ${i.count}× on ${i.clients.length} client(s)${i.artifacts.length ? ` in ${i.artifacts.join(", ")}` : ""}${o.caseId ? ` (case ${o.caseId})` : ""}.`;
    if (i.type === "cve") {
      objects.push({ type: "vulnerability", spec_version: "2.1", id: `vulnerability--${id}`, created: now, modified: now, created_by_ref: identity.id, name: i.value, description, external_references: [{ source_name: "cve", external_id: i.value }] });
      continue;
    }
    objects.push({
      type: "indicator",
      spec_version: "2.1",
      id: `indicator--${id}`,
      created: now,
      modified: now,
      created_by_ref: identity.id,
      name: `${i.type} ${i.value}`,
      description,
      indicator_types: ["unknown"],
      pattern: stixPattern(i.type, i.value),
      pattern_type: "stix",
      valid_from: i.first_seen ?? now,
      labels: [`megaraptor:${i.type}`, ...(o.caseId ? [`case:${o.caseId}`] : [])],
    });
  }
  return { type: "bundle", id: `bundle--${uuidv4()}`, objects };
}

/**
 * MISP attribute per type. `to_ids` (use for detection) only where a value found in endpoint data is specific enough
 * to alert on: validated digests, full URLs and checksum-validated wallets. Addresses, names, emails and paths are
 * extracted from free text and logs with heuristics (and are often infrastructure): they go to MISP as context with
 * to_ids false, for an analyst to promote.
 */
const MISP: Record<IocType, { type: string; category: string; to_ids: boolean }> = {
  ipv4: { type: "ip-dst", category: "Network activity", to_ids: false },
  ipv6: { type: "ip-dst", category: "Network activity", to_ids: false },
  domain: { type: "domain", category: "Network activity", to_ids: false },
  url: { type: "url", category: "Network activity", to_ids: true },
  email: { type: "email-src", category: "Payload delivery", to_ids: false },
  md5: { type: "md5", category: "Payload delivery", to_ids: true },
  sha1: { type: "sha1", category: "Payload delivery", to_ids: true },
  sha256: { type: "sha256", category: "Payload delivery", to_ids: true },
  sha512: { type: "sha512", category: "Payload delivery", to_ids: true },
  windows_path: { type: "filename", category: "Artifacts dropped", to_ids: false },
  posix_path: { type: "filename", category: "Artifacts dropped", to_ids: false },
  registry_key: { type: "regkey", category: "Persistence mechanism", to_ids: false },
  cve: { type: "vulnerability", category: "External analysis", to_ids: false },
  bitcoin: { type: "btc", category: "Financial fraud", to_ids: true },
};

/** Types exported to MISP with to_ids true. */
export const MISP_TO_IDS_TYPES: readonly IocType[] = (Object.keys(MISP) as IocType[]).filter((t) => MISP[t].to_ids);

export function toMisp(items: AggregatedIndicator[], o: { caseId?: string; info?: string; now?: Date } = {}): Record<string, unknown> {
  const now = o.now ?? new Date();
  return {
    Event: {
      uuid: uuidv4(),
      info: o.info ?? `Megaraptor indicators${o.caseId ? ` for case ${o.caseId}` : ""}`,
      date: now.toISOString().slice(0, 10),
      threat_level_id: "4",
      analysis: "1",
      distribution: "0",
      published: false,
      Tag: o.caseId ? [{ name: `megaraptor:case="${o.caseId}"` }] : [],
      Attribute: items.map((i) => ({
        uuid: uuidv5(`${i.type}:${i.value}`, NAMESPACE),
        type: MISP[i.type].type,
        category: MISP[i.type].category,
        to_ids: MISP[i.type].to_ids,
        value: i.value,
        comment: `seen ${i.count}x on ${i.clients.length} client(s)${i.clients.length ? `: ${i.clients.slice(0, 10).join(", ")}` : ""}`,
        ...(i.first_seen ? { first_seen: i.first_seen } : {}),
        ...(i.last_seen ? { last_seen: i.last_seen } : {}),
      })),
    },
  };
}
