/**
 * The `megaraptor` command (started by main.ts). Each subcommand lives in its own module under commands/ and registers itself on the
 * program; this file only wires them together and turns errors into one clear stderr message and an exit code.
 */
import { Command } from "commander";
import { MegaraptorError, toMegaraptorError } from "../core/errors.js";
import { assertSettings } from "../core/settings.js";
import { commandModules } from "./commands/index.js";

export function buildProgram(): Command {
  const program = new Command()
    .name("megaraptor")
    .description("Velociraptor DFIR over MCP, and Velociraptor deployments as Pulumi infrastructure")
    .version("0.1.0")
    .showHelpAfterError()
    // Every numeric MEGARAPTOR_* setting is checked before any command runs (or loads its tools), all problems at once.
    .hook("preAction", () => assertSettings());
  for (const register of commandModules) register(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const e = toMegaraptorError(err);
    process.stderr.write(`megaraptor: ${e instanceof MegaraptorError ? e.describe() : String(err)}\n`);
    process.exitCode = e.code === "INVALID_INPUT" || e.code === "INVALID_SETTING" ? 2 : 1;
  }
}
