/** Evidence tools: list a flow's uploaded files, download one (chunked, hashed, audited), export the flow as a ZIP. */
import { numericSetting } from "../../core/settings.js";
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { writeChunks } from "../../dfir/results/evidence.js";
import { NotFoundError } from "../../velociraptor/errors.js";
import { listPage, rowsOf } from "./common.js";
import { defineTool } from "./define.js";
import { ClientOrServerId, FlowId, OrgId } from "./ids.js";
import { PageInput, RowsOutput } from "./shape.js";

// Read at import: the cap is part of the tool's input schema. The CLI checks every setting before it loads tools.
const MAX_DOWNLOAD = numericSetting("MEGARAPTOR_MAX_DOWNLOAD_BYTES");

export const listFlowUploads = defineTool({
  name: "list_flow_uploads",
  title: "Files uploaded by a collection",
  description: "Files a flow uploaded to the server (path on the endpoint, size, filestore components). Download one with download_flow_file.",
  input: z.object({ client_id: ClientOrServerId, flow_id: FlowId, org_id: OrgId, ...PageInput }),
  output: z.object(RowsOutput),
  preset: "read",
  async handler(args, ctx) {
    return listPage(ctx, args, {
      key: ["uploads", args.client_id, args.flow_id],
      vql: "SELECT Upload.Path AS path, file_size AS size, vfs_path, _Components AS components FROM uploads(client_id=ClientId, flow_id=FlowId)",
      params: { ClientId: args.client_id, FlowId: args.flow_id },
      title: `Uploads of ${args.flow_id}`,
    });
  },
});

export const downloadFlowFile = defineTool({
  name: "download_flow_file",
  title: "Download an uploaded file to the evidence folder",
  description: "Fetch one uploaded file from the Velociraptor filestore (VFSGetBuffer, chunked) into the evidence folder with its SHA-256 and a chain-of-custody entry in the audit log. The content is never returned into the conversation.",
  input: z.object({
    client_id: ClientOrServerId,
    flow_id: FlowId,
    path: z.string().min(1).describe("the upload's path or vfs_path as list_flow_uploads shows it"),
    max_bytes: z.number().int().positive().max(MAX_DOWNLOAD).default(MAX_DOWNLOAD),
    reason: z.string().max(1000).optional(),
    org_id: OrgId,
  }),
  output: z.object({ path: z.string(), uri: z.string(), bytes: z.number(), sha256: z.string(), truncated: z.boolean(), source: z.string() }),
  preset: "evidence",
  async handler(args, ctx) {
    const uploads = await rowsOf(ctx, "SELECT Upload.Path AS path, vfs_path, _Components AS components FROM uploads(client_id=ClientId, flow_id=FlowId)", { ClientId: args.client_id, FlowId: args.flow_id });
    const u = uploads.find((x) => x.path === args.path || x.vfs_path === args.path);
    if (!u) throw new NotFoundError(`Upload ${args.path} in ${args.flow_id}`, "List the flow's files with list_flow_uploads and pass path exactly.");
    const client = ctx.client();
    const components = u.components as string[];
    const f = await writeChunks(`${args.flow_id}-${String(u.path).split(/[\\/]/).pop()}`, (onChunk) =>
      client.readFile(components, { maxBytes: args.max_bytes, chunkSize: 4 * 1024 * 1024, orgId: ctx.orgId, signal: ctx.signal, onChunk: (c) => onChunk(c) }),
    );
    return {
      structured: { path: f.path, uri: f.uri, bytes: f.bytes, sha256: f.sha256, truncated: f.truncated ?? false, source: String(u.vfs_path) },
      text: `Saved ${f.bytes} bytes of ${String(u.path)} to ${f.path}\nsha256 ${f.sha256}${f.truncated ? `\nTRUNCATED at max_bytes=${args.max_bytes}` : ""}`,
      auditSummary: `chain-of-custody: ${args.client_id}/${args.flow_id} ${String(u.vfs_path)} → ${f.path} sha256=${f.sha256} bytes=${f.bytes}`,
    };
  },
});

export const exportFlow = defineTool({
  name: "export_flow",
  title: "Export a collection as a ZIP",
  description: "Have the server build the flow's download ZIP (create_flow_download, wait) and save it to the evidence folder with its SHA-256.",
  input: z.object({ client_id: ClientOrServerId, flow_id: FlowId, org_id: OrgId }),
  output: z.object({ path: z.string(), uri: z.string(), bytes: z.number(), sha256: z.string() }),
  preset: "change",
  async handler(args, ctx) {
    const rows = await rowsOf(ctx, "SELECT create_flow_download(client_id=ClientId, flow_id=FlowId, wait=TRUE) AS D FROM scope()", { ClientId: args.client_id, FlowId: args.flow_id });
    const d = rows[0]?.D as { Components?: string[] } | null;
    if (!d?.Components) throw new InputError("flow_id", `the server did not prepare a download for ${args.flow_id}`, "Check the flow exists (list_flows) and the API user has PREPARE_RESULTS.");
    const client = ctx.client();
    const f = await writeChunks(`${args.flow_id}-export`, (onChunk) => client.readFile(d.Components!, { orgId: ctx.orgId, signal: ctx.signal, onChunk: (c) => onChunk(c) }));
    return { structured: { path: f.path, uri: f.uri, bytes: f.bytes, sha256: f.sha256 }, text: `Saved the export of ${args.flow_id} to ${f.path}\nsha256 ${f.sha256}`, auditSummary: `export ${args.flow_id} → ${f.path} sha256=${f.sha256}` };
  },
});

export const evidenceTools = [listFlowUploads, downloadFlowFile, exportFlow];
