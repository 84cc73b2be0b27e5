/** Server tools: version, uptime, the caller's identity and roles, and orgs. */
import { z } from "zod";
import { readServerFacts } from "../../velociraptor/server-facts.js";
import { assessKey, keyPermissionsFrom } from "../safety/key-check.js";
import { rowsOf } from "./common.js";
import { defineTool } from "./define.js";
import { OrgId } from "./ids.js";

const KeyPermissionsOutput = z.object({
  user: z.string(),
  super_user: z.boolean(),
  roles: z.array(z.string()).nullable(),
  permissions: z.array(z.string()),
  known: z.boolean(),
  mode: z.string(),
  exceeds_mode: z.array(z.string()),
  warning: z.string().optional(),
});

export const getServerInfo = defineTool({
  name: "get_server_info",
  title: "Velociraptor server info",
  description: "Server version, host, uptime, your orgs, identity and roles, and key_permissions (what this API key may do, and whether that exceeds the mode). A good first call.",
  input: z.object({ org_id: OrgId }),
  output: z.object({
    version: z.string().nullable(),
    hostname: z.string().nullable(),
    uptime_seconds: z.number().nullable(),
    user: z.string(),
    roles: z.array(z.string()),
    orgs: z.array(z.record(z.string(), z.unknown())),
    unavailable: z.array(z.object({ fields: z.array(z.string()), permission: z.string(), granted_by: z.array(z.string()), reason: z.string() })).describe("Facts this API key may not read, the permission each needs and the roles that grant it"),
    key_permissions: KeyPermissionsOutput.describe("What this API key may do on the server, and what of that exceeds the mode"),
  }),
  preset: "read",
  async handler(_args, ctx) {
    // The version needs only ANY_QUERY; host name and uptime need MACHINE_STATE, which a deployment's api,investigator
    // key lacks: those come back null with the reason in `unavailable` (velociraptor/server-facts.ts).
    const facts = await readServerFacts(ctx.client(), { orgId: ctx.orgId, signal: ctx.signal });
    const [me] = await rowsOf(ctx, "SELECT whoami() AS Name, user(user=whoami()) AS User FROM scope()");
    const orgs = await rowsOf(ctx, "SELECT * FROM orgs()");
    const user = String(me?.Name ?? "");
    const roles = ((me?.User as { roles?: string[] } | null)?.roles ?? []).map(String);
    const unavailable = facts.unavailable.map((u) => ({ fields: u.fields, permission: u.permission, granted_by: u.grantedBy, reason: u.reason }));
    // What this key may do on the server, against what the mode allows (the same check as at start-up).
    const key_permissions = assessKey(ctx.mode, keyPermissionsFrom(user, me?.User));
    const out = { version: facts.version ?? null, hostname: facts.hostname ?? null, uptime_seconds: facts.uptimeSeconds ?? null, user, roles, orgs, unavailable, key_permissions };
    const missing = unavailable.map((u) => `\nNot shown: ${u.reason}`).join("");
    return { structured: out, text: `Velociraptor ${out.version ?? "?"} on ${out.hostname ?? "?"}; you are ${user} (${roles.join(", ") || "no roles"}); orgs: ${orgs.map((o) => o.OrgId ?? o.id).join(", ")}${missing}${key_permissions.warning ? `\nWARNING: ${key_permissions.warning}` : ""}` };
  },
});

export const listOrgs = defineTool({
  name: "list_orgs",
  title: "List orgs",
  description: "Orgs (tenants) the caller can use; pass their id as org_id to any Velociraptor tool.",
  input: z.object({}),
  output: z.object({ orgs: z.array(z.record(z.string(), z.unknown())) }),
  preset: "read",
  async handler(_args, ctx) {
    const orgs = await rowsOf(ctx, "SELECT * FROM orgs()");
    return { structured: { orgs }, text: orgs.map((o) => `${String(o.OrgId ?? o.id)}: ${String(o.Name ?? o.name)}`).join("\n") };
  },
});



export const findClient = defineTool({
  name: "find_client",
  title: "Find a client by hostname across orgs",
  description: "Look a hostname (or part of it) up in every org the caller can use; returns org_id and client_id per match. Use when you do not know which org an endpoint belongs to.",
  input: z.object({ hostname: z.string().min(1).max(255) }),
  output: z.object({ matches: z.array(z.object({ org_id: z.string(), client_id: z.string(), hostname: z.string(), os: z.string().nullable() })), orgs_searched: z.array(z.string()) }),
  preset: "read",
  async handler(args, ctx) {
    const orgs = (await rowsOf({ ...ctx, orgId: undefined }, "SELECT * FROM orgs()")).map((o) => String(o.OrgId ?? o.id));
    const matches: { org_id: string; client_id: string; hostname: string; os: string | null }[] = [];
    for (const org of orgs) {
      const rows = await rowsOf({ ...ctx, orgId: org }, "SELECT client_id, os_info.hostname AS hostname, os_info.system AS os FROM clients(search=Term)", { Term: args.hostname }).catch(() => []);
      for (const r of rows) matches.push({ org_id: org, client_id: String(r.client_id), hostname: String(r.hostname), os: (r.os as string) ?? null });
    }
    return { structured: { matches, orgs_searched: orgs }, text: matches.length ? matches.map((m) => `${m.org_id}: ${m.client_id} ${m.hostname}`).join("\n") : `No client matching ${args.hostname} in ${orgs.join(", ")}` };
  },
});

export const serverTools = [getServerInfo, listOrgs, findClient];
