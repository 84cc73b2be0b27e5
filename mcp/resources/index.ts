/**
 * Read-only views as MCP resources, served through the same executor as the tools (so mode, paging, org and errors
 * behave alike), with templates and id completion. Deployments are read from the deploy layer, loaded on first use.
 */
import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { toMegaraptorError } from "../../core/errors.js";
import type { Channel, ToolExecutor } from "../server/executor.js";
import { getArtifact, listArtifacts } from "../tools/artifacts.js";
import { getClientInfo, listClients } from "../tools/clients.js";
import type { Tool, ToolContext } from "../tools/define.js";
import { getHuntResults, listHunts } from "../tools/hunts.js";
import { getServerInfo } from "../tools/server-info.js";
import { rowsOf } from "../tools/common.js";
import { listEvidence, readEvidence } from "../../dfir/results/evidence.js";
import { casesDir } from "../../dfir/response/ledger.js";
import { listChanges } from "../tools/response.js";
import { existsSync, readdirSync } from "node:fs";
import { extname, join } from "node:path";

/** The deploy layer is loaded only when a deployment resource is read: it pulls in the Pulumi SDK. */
const deployments = {
  list: async () => (await import("../../deploy/operations/index.js")).listDeploymentSummaries(),
  get: async (id: string) => (await import("../../deploy/operations/index.js")).getDeploymentSummary(id),
};
/** Evidence formats small enough to read inline, by extension. */
const TEXT_EVIDENCE: Record<string, string> = { jsonl: "application/x-ndjson", json: "application/json", csv: "text/csv", md: "text/markdown", html: "text/html" };

function listCases(): string[] {
  const dir = casesDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((c) => existsSync(join(dir, c, "ledger.jsonl"))).sort();
}

/** Resource reads are not cancellable by the client and report no progress. */
const RESOURCE_CHANNEL: Channel = { signal: new AbortController().signal, via: "token" };

function ctxFor(executor: ToolExecutor): ToolContext {
  return executor.context(RESOURCE_CHANNEL);
}

async function viaTool(executor: ToolExecutor, tool: Tool, args: Record<string, unknown>, uri: string) {
  const out = await executor.run(tool, args, RESOURCE_CHANNEL);
  if (out.ok) return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify(out.result.structured, null, 2) }] };
  const e = out.error;
  return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint, retryable: e.retryable } }, null, 2) }] };
}

async function complete(executor: ToolExecutor, vql: string, column: string, prefix: string): Promise<string[]> {
  if (!executor.runtime.configured) return [];
  try {
    const rows = await rowsOf(ctxFor(executor), vql, {}, 1000);
    return rows.map((r) => String(r[column])).filter((v) => v.toLowerCase().startsWith(prefix.toLowerCase())).slice(0, 50);
  } catch {
    return [];
  }
}

export function registerResources(server: McpServer, executor: ToolExecutor): void {
  const json = "application/json";
  server.registerResource("clients", "velociraptor://clients", { title: "Clients", description: "First 100 clients", mimeType: json }, (uri) =>
    viaTool(executor, listClients, { limit: 100 }, uri.href),
  );
  server.registerResource(
    "client",
    new ResourceTemplate("velociraptor://clients/{client_id}", { list: undefined, complete: { client_id: (v) => complete(executor, "SELECT client_id FROM clients()", "client_id", v) } }),
    { title: "Client", description: "One client's details", mimeType: json },
    (uri, vars) => viaTool(executor, getClientInfo, { client_id: String(vars.client_id) }, uri.href),
  );
  server.registerResource("hunts", "velociraptor://hunts", { title: "Hunts", description: "Recent hunts", mimeType: json }, (uri) =>
    viaTool(executor, listHunts, { limit: 100 }, uri.href),
  );
  const huntComplete = { hunt_id: (v: string) => complete(executor, "SELECT hunt_id FROM hunts()", "hunt_id", v) };
  server.registerResource(
    "hunt",
    new ResourceTemplate("velociraptor://hunts/{hunt_id}", { list: undefined, complete: huntComplete }),
    { title: "Hunt", description: "One hunt", mimeType: json },
    async (uri, vars) => {
      try {
        const rows = await rowsOf(ctxFor(executor), "SELECT * FROM hunts(hunt_id=HuntId)", { HuntId: String(vars.hunt_id) });
        return { contents: [{ uri: uri.href, mimeType: json, text: JSON.stringify(rows[0] ?? { error: { code: "NOT_FOUND", message: `Hunt ${String(vars.hunt_id)} was not found.` } }, null, 2) }] };
      } catch (err) {
        const e = toMegaraptorError(err);
        return { contents: [{ uri: uri.href, mimeType: json, text: JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint } }) }] };
      }
    },
  );
  server.registerResource(
    "hunt-results",
    new ResourceTemplate("velociraptor://hunts/{hunt_id}/results", { list: undefined, complete: huntComplete }),
    { title: "Hunt results", description: "First page of a hunt's results", mimeType: json },
    (uri, vars) => viaTool(executor, getHuntResults, { hunt_id: String(vars.hunt_id) }, uri.href),
  );
  server.registerResource("artifacts", "velociraptor://artifacts", { title: "Artifacts", description: "Artifact catalog (first 1000)", mimeType: json }, (uri) =>
    viaTool(executor, listArtifacts, { limit: 1000 }, uri.href),
  );
  server.registerResource(
    "artifact",
    new ResourceTemplate("velociraptor://artifacts/{artifact_name}", {
      list: undefined,
      complete: { artifact_name: (v) => complete(executor, "SELECT name FROM artifact_definitions()", "name", v) },
    }),
    { title: "Artifact", description: "One artifact definition", mimeType: json },
    (uri, vars) => viaTool(executor, getArtifact, { artifact_name: String(vars.artifact_name) }, uri.href),
  );
  server.registerResource("server-info", "velociraptor://server-info", { title: "Server info", mimeType: json }, (uri) =>
    viaTool(executor, getServerInfo, {}, uri.href),
  );
  server.registerResource(
    "evidence",
    new ResourceTemplate("megaraptor://evidence/{file}", {
      // Partial files (an interrupted or running write) are listed apart from evidence: incomplete and never hashed.
      list: async () => ({
        resources: listEvidence().map((f) =>
          f.partial
            ? { uri: `megaraptor://evidence/${f.name}`, name: `${f.name} (PARTIAL)`, description: `PARTIAL: an interrupted or still running write, ${f.bytes} bytes so far; incomplete and not hashed — not evidence`, mimeType: "application/octet-stream" }
            : { uri: `megaraptor://evidence/${f.name}`, name: f.name, description: `${f.bytes} bytes` },
        ),
      }),
      complete: { file: async (v) => listEvidence().map((f) => f.name).filter((n) => n.startsWith(v)) },
    }),
    { title: "Evidence file", description: "Files written by export_results, download_flow_file, export_flow, generate_timeline, extract_iocs and generate_report" },
    async (uri, vars) => {
      // Large or binary evidence stays on disk: the resource describes it instead of inlining megabytes.
      const name = String(vars.file);
      const mime = TEXT_EVIDENCE[extname(name).slice(1)];
      const f = readEvidence(name, mime ? 1024 * 1024 : 0);
      if (f.partial) return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ path: f.path, bytes: f.bytes, partial: true, note: "PARTIAL: an interrupted or still running write; incomplete and not hashed. Not evidence; delete it once no call is writing it." }) }] };
      if (mime && f.content) return { contents: [{ uri: uri.href, mimeType: mime, text: f.content.toString("utf8") }] };
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ path: f.path, bytes: f.bytes, note: "Too large or binary to inline; open the file at this path." }) }] };
    },
  );
  server.registerResource(
    "case-changes",
    new ResourceTemplate("megaraptor://cases/{case_id}/changes", {
      list: async () => ({ resources: listCases().map((c) => ({ uri: `megaraptor://cases/${c}/changes`, name: `${c} changes`, description: `Endpoint changes recorded for case ${c}` })) }),
      complete: { case_id: async (v) => listCases().filter((c) => c.startsWith(v)) },
    }),
    { title: "Case change ledger", description: "Every remediation of a case with before-state, result and rollback (verified hash chain)", mimeType: json },
    (uri, vars) => viaTool(executor, listChanges, { case_id: String(vars.case_id) }, uri.href),
  );
  server.registerResource("deployments", "velociraptor://deployments", { title: "Deployments", description: "Velociraptor deployments managed by Megaraptor", mimeType: json }, async (uri) => {
    try {
      return { contents: [{ uri: uri.href, mimeType: json, text: JSON.stringify({ deployments: await deployments.list() }, null, 2) }] };
    } catch (err) {
      const e = toMegaraptorError(err);
      return { contents: [{ uri: uri.href, mimeType: json, text: JSON.stringify({ deployments: [], error: { code: e.code, message: e.message, hint: e.hint } }, null, 2) }] };
    }
  });
  server.registerResource(
    "deployment",
    new ResourceTemplate("velociraptor://deployments/{deployment_id}", {
      list: undefined,
      complete: { deployment_id: async (v) => (await deployments.list().catch(() => [])).map((d) => d.id).filter((id) => id.startsWith(v)) },
    }),
    { title: "Deployment", mimeType: json },
    async (uri, vars) => {
      const d = await deployments.get(String(vars.deployment_id)).catch(() => undefined);
      return { contents: [{ uri: uri.href, mimeType: json, text: JSON.stringify(d ?? { error: { code: "NOT_FOUND", message: `Deployment ${String(vars.deployment_id)} was not found.`, hint: "List deployments with list_deployments or read velociraptor://deployments." } }, null, 2) }] };
    },
  );
}
