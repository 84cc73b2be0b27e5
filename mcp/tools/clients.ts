/** Client tools: find endpoints, read their details, label them, and contain them. */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { NotFoundError } from "../../velociraptor/errors.js";
import { listPage, listParam, rowsOf } from "./common.js";
import { clientIdentity, scheduleCollection } from "./endpoint.js";
import { defineTool } from "./define.js";
import { ClientId, Labels, OrgId } from "./ids.js";
import { PageInput, RowsOutput, shapeRows } from "./shape.js";

const CLIENT_COLUMNS =
  "client_id, os_info.hostname AS hostname, os_info.fqdn AS fqdn, os_info.system AS os, os_info.release AS release, labels, last_ip, last_seen_at, first_seen_at, agent_information.version AS agent_version";

export const listClients = defineTool({
  name: "list_clients",
  title: "List endpoints",
  description:
    "Find clients (endpoints): `search` takes Velociraptor's verbs host:<name>, label:<label>, ip:<prefix>, client:<id>, recent:, or a hostname term; filter by os, label, last seen. Start here to get client ids.",
  input: z.object({
    search: z.string().max(256).optional().describe("Velociraptor search, e.g. host:WKS-*, label:finance, ip:10.10."),
    os: z.enum(["windows", "linux", "darwin"]).optional().describe("only this OS"),
    label: z.string().optional().describe("only clients with this label"),
    last_seen_hours: z.number().positive().optional().describe("only clients seen within this many hours"),
    org_id: OrgId,
    ...PageInput,
  }),
  output: z.object(RowsOutput),
  preset: "read",
  async handler(args, ctx) {
    // The WHERE clause is assembled from fixed fragments only; every value travels in env.
    const where: string[] = [];
    const params: Record<string, unknown> = { Search: args.search ?? "" };
    if (args.os) {
      where.push("os_info.system = Os");
      params.Os = args.os;
    }
    if (args.label) {
      where.push("Label IN labels");
      params.Label = args.label;
    }
    if (args.last_seen_hours) {
      where.push("last_seen_at > now() * 1000000 - int(int=SeenWithinSeconds) * 1000000");
      params.SeenWithinSeconds = Math.round(args.last_seen_hours * 3600);
    }
    return listPage(ctx, args, {
      key: ["list_clients", args.search, args.os, args.label, args.last_seen_hours, args.org_id],
      vql: `SELECT ${CLIENT_COLUMNS} FROM clients(search=Search)${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`,
      params,
      title: "Clients",
      filtered: args.search || args.os || args.label || args.last_seen_hours ? "the search and filters" : undefined,
    });
  },
});

export const getClientInfo = defineTool({
  name: "get_client_info",
  title: "Endpoint details",
  description: "Full details of one client: OS, hostname, agent version, labels, IP, first/last seen. Use after list_clients.",
  input: z.object({ client_id: ClientId, org_id: OrgId }),
  output: z.object({ client: z.record(z.string(), z.unknown()) }),
  preset: "read",
  async handler(args, ctx) {
    const rows = await rowsOf(ctx, "SELECT * FROM clients(client_id=ClientId)", { ClientId: args.client_id });
    if (!rows[0]) throw new NotFoundError(`Client ${args.client_id}`, "Check the id with list_clients (ids are per org; pass org_id for another org).");
    const client = shapeRows({ rows, offset: 0, limit: 1, queryKey: "x" }).rows[0]!;
    return { structured: { client }, text: JSON.stringify(client, null, 2) };
  },
});

export const labelClient = defineTool({
  name: "label_client",
  title: "Add or remove client labels",
  description: "Add or remove labels on a client (labels drive hunts and searches). Changes state; audited.",
  input: z.object({
    client_id: ClientId,
    labels: Labels.describe("labels to add or remove"),
    operation: z.enum(["add", "remove"]).default("add"),
    org_id: OrgId,
  }),
  output: z.object({ client_id: z.string(), operation: z.string(), labels: z.array(z.string()) }),
  preset: "change",
  async handler(args, ctx) {
    const exists = await rowsOf(ctx, "SELECT client_id FROM clients(client_id=ClientId)", { ClientId: args.client_id });
    if (!exists[0]) throw new NotFoundError(`Client ${args.client_id}`, "Check the id with list_clients.");
    // label() has no default op: without op='set'/'remove' Velociraptor silently does nothing.
    await rowsOf(ctx, "SELECT label(client_id=ClientId, labels=parse_json(data=Labels).items, op=Op) AS Result FROM scope()", {
      ClientId: args.client_id,
      Labels: listParam(args.labels),
      Op: args.operation === "add" ? "set" : "remove",
    });
    const rows = await rowsOf(ctx, "SELECT labels FROM clients(client_id=ClientId)", { ClientId: args.client_id });
    if (!rows[0]) throw new NotFoundError(`Client ${args.client_id}`, "Check the id with list_clients.");
    const labels = (rows[0].labels as string[]) ?? [];
    return {
      structured: { client_id: args.client_id, operation: args.operation, labels },
      text: `Labels on ${args.client_id} now: ${labels.join(", ") || "(none)"}`,
      auditSummary: `${args.operation} ${args.labels.join(", ")}`,
    };
  },
});

const QUARANTINE_ARTIFACT: Record<string, string> = {
  windows: "Windows.Remediation.Quarantine",
  linux: "Linux.Remediation.Quarantine",
  darwin: "MacOS.Remediation.Quarantine",
};

async function quarantineTarget(clientId: string, ctx: Parameters<typeof listClients.handler>[1]) {
  const c = await clientIdentity(ctx, clientId);
  const artifact = QUARANTINE_ARTIFACT[c.os];
  if (!artifact) throw new InputError("client_id", `no quarantine artifact for OS "${c.os}"`, "Quarantine exists for Windows, Linux and macOS clients.");
  return { ...c, artifact };
}

export const quarantineClient = defineTool({
  name: "quarantine_client",
  title: "Quarantine or release an endpoint",
  description:
    "Network-isolate a client (quarantine=true) or release it (quarantine=false), as the Velociraptor GUI does: collects the OS's *.Remediation.Quarantine artifact (IPsec / nftables / pf; only the Velociraptor server stays reachable) and sets or removes the Quarantine label. DESTRUCTIVE: the first call returns a plan and confirm_token; call again with the token and the user's reason to execute. Needs respond mode.",
  input: z.object({
    client_id: ClientId,
    quarantine: z.boolean().default(true).describe("true = isolate, false = release"),
    message: z.string().max(512).optional().describe("message shown to the user on the endpoint"),
    reason: z.string().max(1000).optional().describe("why (recorded in the audit log)"),
    confirm_token: z.string().optional().describe("token from the plan, to execute"),
    org_id: OrgId,
  }),
  output: z.object({ client_id: z.string(), action: z.string(), artifact: z.string(), flow_id: z.string(), labels: z.array(z.string()) }),
  preset: "destructive",
  async plan(args, ctx) {
    const t = await quarantineTarget(args.client_id, ctx);
    const parameters = args.quarantine ? (args.message ? { MessageBox: args.message } : {}) : { RemovePolicy: "Y" };
    return {
      summary: `${args.quarantine ? "Quarantine" : "Release"} ${t.hostname} (${args.client_id}, ${t.os})`,
      details: { client_id: args.client_id, hostname: t.hostname, artifact: t.artifact, parameters, label: { op: args.quarantine ? "set" : "remove", label: "Quarantine" } },
    };
  },
  async handler(args, ctx) {
    const t = await quarantineTarget(args.client_id, ctx);
    const parameters: Record<string, string> = args.quarantine ? (args.message ? { MessageBox: args.message } : {}) : { RemovePolicy: "Y" };
    const flowId = await scheduleCollection(ctx, { clientId: args.client_id, artifacts: [t.artifact], spec: { [t.artifact]: parameters }, urgent: true });
    await rowsOf(ctx, "SELECT label(client_id=ClientId, labels='Quarantine', op=Op) FROM scope()", { ClientId: args.client_id, Op: args.quarantine ? "set" : "remove" });
    const labelRows = await rowsOf(ctx, "SELECT labels FROM clients(client_id=ClientId)", { ClientId: args.client_id });
    const action = args.quarantine ? "quarantined" : "released";
    return {
      structured: { client_id: args.client_id, action, artifact: t.artifact, flow_id: flowId, labels: (labelRows[0]?.labels as string[]) ?? [] },
      text: `${t.hostname} (${args.client_id}) ${action}: ${t.artifact} scheduled as ${flowId}. Check it with get_flow_status.`,
      auditSummary: `${action} via ${flowId}`,
    };
  },
});

export const clientTools = [listClients, getClientInfo, labelClient, quarantineClient];
