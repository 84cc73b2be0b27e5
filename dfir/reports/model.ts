/**
 * What an investigation report contains, as data: the tool gathers it (scope, findings, indicators, timeline
 * excerpt, audit actions, ledger changes, VQL used) and ./render.ts turns it into Markdown or HTML.
 */
import { z } from "zod";

export const FindingSchema = z.object({
  title: z.string().min(1).max(300),
  severity: z.enum(["info", "low", "medium", "high", "critical"]).default("medium"),
  detail: z.string().max(20_000).default(""),
  clients: z.array(z.string()).default([]),
  evidence: z.array(z.string()).default([]).describe("flow ids, evidence file URIs, timeline times"),
});
export type Finding = z.infer<typeof FindingSchema>;

export interface ReportData {
  case_id: string;
  title: string;
  generated_at: string;
  author: string;
  summary?: string;
  scope: {
    clients: { client_id: string; hostname?: string; os?: string }[];
    hunts: { hunt_id: string; description?: string; artifacts: string[] }[];
    flows: { client_id: string; hostname?: string; flow_id: string; artifacts: string[]; created?: string; state?: string; status?: string; hunt_id?: string }[];
  };
  findings: Finding[];
  /** `hosts`: the host names of `clients`, same order (the client id when unknown). `range`: documentation, private… */
  indicators: { type: string; value: string; count: number; clients: string[]; hosts?: string[]; first_seen?: string; last_seen?: string; range?: string }[];
  /** Indicators suppressed as known-good, per allow-list rule, with (the first) values. */
  suppressed?: { rule: string; count: number; values: string[] }[];
  timeline: { datetime: string; source: string; timestamp_desc: string; message: string; client_id?: string; hostname?: string }[];
  actions: { time: string; tool: string; principal: string; outcome: string; summary?: string }[];
  changes: { seq: number; time: string; action: string; client_id: string; hostname?: string; target: string; result: string; rollback?: string; reason: string }[];
  /** Velociraptor deployments made for this case (deploy tools with the same case id). */
  deployments?: { id: string; target: string; profile: string; status: string; updated: string; server_url?: string }[];
  /** Reproducibility: the exact VQL and artifact parameters behind the evidence. */
  appendix: { flows: { flow_id: string; client_id: string; artifacts: string[]; parameters?: unknown }[]; queries: { description: string; vql: string; env?: Record<string, unknown> }[] };
  /** Caveats: truncated sources, failed flows, coverage labels. */
  caveats: string[];
}
