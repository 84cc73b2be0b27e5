/**
 * Command-line parsing for the Velociraptor stand-in, shaped like Velociraptor's kingpin CLI: global flags
 * (`--config/-c`, `--verbose/-v`, `--org`) anywhere, `--flag value` or `--flag=value`, and kingpin's messages for a
 * missing command, an unknown flag, a missing required flag or argument.
 */

export interface CommandSpec {
  /** e.g. "config api_client". */
  name: string;
  /** Flags this command takes: name → takes a value? */
  flags: Record<string, { value: boolean; required?: boolean }>;
  /** Positional arguments in order. */
  args: { name: string; required?: boolean }[];
}

export interface ParsedArgs {
  command: string;
  global: { config?: string; verbose: boolean; org?: string; help: boolean };
  flags: Record<string, string | true>;
  args: Record<string, string>;
}

/** A usage error, printed as kingpin prints it: `velociraptor: error: <message>, try --help`. */
export class UsageError extends Error {}

const GLOBAL: Record<string, { value: boolean; short?: string }> = {
  config: { value: true, short: "c" },
  verbose: { value: false, short: "v" },
  org: { value: true },
  help: { value: false, short: "h" },
};

export function parseArgs(argv: string[], commands: CommandSpec[]): ParsedArgs {
  const global: ParsedArgs["global"] = { verbose: false, help: false };
  const flags: Record<string, string | true> = {};
  const words: string[] = [];
  let spec: CommandSpec | undefined;

  const setGlobal = (name: string, value: string | true) => {
    if (name === "config") global.config = String(value);
    else if (name === "org") global.org = String(value);
    else if (name === "verbose") global.verbose = true;
    else if (name === "help") global.help = true;
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--") && a.length > 2) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const g = GLOBAL[name];
      const f = spec?.flags[name];
      const def = f ?? g;
      if (!def) throw new UsageError(`unknown long flag '--${name}'`);
      let value: string | true = true;
      if (def.value) {
        value = inline ?? argv[++i] ?? "";
        if (inline === undefined && i >= argv.length) throw new UsageError(`expected argument for flag '--${name}'`);
      }
      if (f) flags[name] = value;
      else setGlobal(name, value);
    } else if (a.startsWith("-") && a.length === 2 && a !== "--") {
      const entry = Object.entries(GLOBAL).find(([, d]) => d.short === a[1]);
      if (!entry) throw new UsageError(`unknown short flag '${a}'`);
      const [name, def] = entry;
      setGlobal(name, def.value ? (argv[++i] ?? "") : true);
    } else {
      words.push(a);
      spec ??= commands.find((c) => c.name === words.join(" "));
    }
  }

  if (global.help) return { command: "help", global, flags, args: {} };
  if (!spec) {
    if (!words.length) throw new UsageError("expected command but got nothing");
    throw new UsageError(`expected command but got "${words.join(" ")}"`);
  }
  const positional = words.slice(spec.name.split(" ").length);
  if (positional.length > spec.args.length) throw new UsageError(`unexpected ${positional[spec.args.length]}`);
  const args: Record<string, string> = {};
  spec.args.forEach((arg, idx) => {
    if (positional[idx] !== undefined) args[arg.name] = positional[idx]!;
    else if (arg.required) throw new UsageError(`required argument '${arg.name}' not provided`);
  });
  for (const [name, def] of Object.entries(spec.flags)) if (def.required && flags[name] === undefined) throw new UsageError(`required flag --${name} not provided`);
  return { command: spec.name, global, flags, args };
}
