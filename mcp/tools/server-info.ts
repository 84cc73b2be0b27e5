/** Server tools: version, uptime, the caller's identity and roles, and orgs. */
import { z } from "zod";
import { rowsOf } from "./common.js";
import { defineTool } from "./define.js";
import { OrgId } from "./ids.js";

export const getServerInfo = defineTool({
  name: "get_server_info",
  title: "Velociraptor server info",
  description: "Server version, host, uptime, the orgs the caller can use, and the caller's identity and roles. A good first call to check the connection and what this API key may do.",
  input: z.object({ org_id: OrgId }),
  output: z.object({ version: z.string().nullable(), hostname: z.string().nullable(), uptime_seconds: z.number().nullable(), user: z.string(), roles: z.array(z.string()), orgs: z.array(z.record(z.string(), z.unknown())) }),
  annotations: { readOnly: true, destructive: false, idempotent: true, openWorld: false },
  tier: "read",
  audit: false,
  needsVelociraptor: true,
  async handler(_args, ctx) {
    const [info] = await rowsOf(ctx, "SELECT Hostname, Uptime, config.server_version.version AS Version FROM info()");
    const [me] = await rowsOf(ctx, "SELECT whoami() AS Name, user(user=whoami()) AS User FROM scope()");
    const orgs = await rowsOf(ctx, "SELECT * FROM orgs()");
    const user = String(me?.Name ?? "");
    const roles = ((me?.User as { roles?: string[] } | null)?.roles ?? []).map(String);
    const out = { version: (info?.Version as string) ?? null, hostname: (info?.Hostname as string) ?? null, uptime_seconds: (info?.Uptime as number) ?? null, user, roles, orgs };
    return { structured: out, text: `Velociraptor ${out.version ?? "?"} on ${out.hostname ?? "?"}; you are ${user} (${roles.join(", ") || "no roles"}); orgs: ${orgs.map((o) => o.OrgId ?? o.id).join(", ")}` };
  },
});

export const listOrgs = defineTool({
  name: "list_orgs",
  title: "List orgs",
  description: "Orgs (tenants) the caller can use; pass their id as org_id to any Velociraptor tool.",
  input: z.object({}),
  output: z.object({ orgs: z.array(z.record(z.string(), z.unknown())) }),
  annotations: { readOnly: true, destructive: false, idempotent: true, openWorld: false },
  tier: "read",
  audit: false,
  needsVelociraptor: true,
  async handler(_args, ctx) {
    const orgs = await rowsOf(ctx, "SELECT * FROM orgs()");
    return { structured: { orgs }, text: orgs.map((o) => `${String(o.OrgId ?? o.id)}: ${String(o.Name ?? o.name)}`).join("\n") };
  },
});

export const serverTools = [getServerInfo, listOrgs];
