import type { Command } from "commander";
import { register as audit } from "./audit.js";
import { register as cloud } from "./cloud.js";
import { register as deploy } from "./deploy.js";
import { register as mcp } from "./mcp.js";
import { register as query } from "./query.js";
import { register as render } from "./render.js";
import { register as tool } from "./tool.js";

/** Every subcommand module exports a `register(program)`; add new ones here. */
export type RegisterCommand = (program: Command) => void;

export const commandModules: RegisterCommand[] = [mcp, query, audit, render, deploy, cloud, tool];
