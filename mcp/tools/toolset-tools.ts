/** list_toolsets / enable_toolsets: how a model finds out which tools exist beyond its list, and asks for them. */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { defineTool } from "./define.js";
import { TOOLSET_NAMES, TOOLSETS, type ToolsetName } from "./toolsets.js";

const ToolsetEntry = z.object({
  name: z.string(),
  description: z.string(),
  enabled: z.boolean(),
  /** The toolset's tools this session's mode lets run (the others need a higher --mode). */
  tools: z.array(z.string()),
  above_mode: z.array(z.string()),
});

export const listToolsets = defineTool({
  name: "list_toolsets",
  title: "List toolsets",
  description: "Tool groups this server offers (collection, hunts, vql, evidence, analysis, response, deploy, agents…), which are listed now, and the tools in each. Use enable_toolsets to list more.",
  input: z.object({}),
  output: z.object({ toolsets: z.array(ToolsetEntry), can_enable: z.boolean() }),
  preset: "read",
  async handler(_args, ctx) {
    const enabled = new Set(ctx.toolsets.enabled());
    const toolsets = TOOLSET_NAMES.map((name) => {
      const all: readonly string[] = TOOLSETS[name].tools;
      return { name, description: TOOLSETS[name].description, enabled: enabled.has(name), tools: all.filter((t) => ctx.toolsets.allowedInMode(t)), above_mode: all.filter((t) => !ctx.toolsets.allowedInMode(t)) };
    });
    const line = (t: (typeof toolsets)[number]) =>
      `${t.enabled ? "[listed]" : "[not listed]"} ${t.name}: ${t.description}. Tools: ${t.tools.join(", ") || "none in this mode"}${t.above_mode.length ? `; above mode ${ctx.mode}: ${t.above_mode.join(", ")}` : ""}`;
    const how = ctx.toolsets.dynamic
      ? "Call enable_toolsets with the names you need."
      : "This session's list is fixed: restart the server with --toolsets (or MEGARAPTOR_TOOLSETS), e.g. --toolsets default,deploy.";
    return { structured: { toolsets, can_enable: ctx.toolsets.dynamic }, text: [...toolsets.map(line), how].join("\n") };
  },
});

export const enableToolsets = defineTool({
  name: "enable_toolsets",
  title: "Enable toolsets",
  description: "List more tools in this session: give toolset names from list_toolsets (or \"all\"). The tool list is updated (tools/list_changed); the mode still decides what may run.",
  input: z.object({ toolsets: z.array(z.enum(["all", ...TOOLSET_NAMES])).min(1).describe('toolset names, or "all"') }),
  output: z.object({ enabled: z.array(z.string()), added: z.array(z.string()), new_tools: z.array(z.string()) }),
  preset: "read",
  async handler(args, ctx) {
    if (!ctx.toolsets.dynamic)
      throw new InputError("toolsets", "this session's tool list cannot change (Streamable HTTP here is stateless; the CLI already runs every tool)", "Restart the MCP server with --toolsets (or MEGARAPTOR_TOOLSETS), e.g. --toolsets default,deploy.");
    const wanted = (args.toolsets.includes("all") ? TOOLSET_NAMES : args.toolsets) as ToolsetName[];
    const added = await ctx.toolsets.enable(wanted);
    const newTools = added.flatMap((s) => TOOLSETS[s].tools.filter((t) => ctx.toolsets.allowedInMode(t)));
    const enabled = [...ctx.toolsets.enabled()];
    const text = added.length ? `Now listed: ${added.join(", ")} (${newTools.length} tools: ${newTools.join(", ") || "none in this mode"}).` : `Already listed: ${wanted.join(", ")}.`;
    return { structured: { enabled, added, new_tools: newTools }, text };
  },
});

export const toolsetTools = [listToolsets, enableToolsets];
