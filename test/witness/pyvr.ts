/**
 * Finding and running the pyvelociraptor witness (test/witness/pyvr_query.py) from tests and benchmarks. The venv is
 * made by scripts/pyvelociraptor.sh; when it could not be made, the reason that script wrote is what callers print
 * when they skip.
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../../core/paths.js";

const run = promisify(execFile);

/** Same location rule as scripts/pyvelociraptor.sh. */
export const PYVR_VENV = join(process.env.MEGARAPTOR_CACHE ?? join(homedir(), ".cache", "megaraptor"), "venv-pyvelociraptor");
export const WITNESS_SCRIPT = join(packageRoot(), "test", "witness", "pyvr_query.py");

export type PyvrAvailability = { ok: true; python: string; versions: string } | { ok: false; reason: string };

let cached: PyvrAvailability | undefined;

/** Whether the pyvelociraptor venv is usable, and if not, why (the reason is meant to be printed by a skip). */
export function pyvelociraptorAvailability(): PyvrAvailability {
  if (cached) return cached;
  const reasonFile = `${PYVR_VENV}.unavailable`;
  const python = join(PYVR_VENV, "bin", "python");
  if (existsSync(reasonFile)) return (cached = { ok: false, reason: `pyvelociraptor unavailable: ${readFileSync(reasonFile, "utf8").trim()}` });
  if (!existsSync(python)) return (cached = { ok: false, reason: `pyvelociraptor venv not found at ${PYVR_VENV}; run bash scripts/pyvelociraptor.sh` });
  const probe = spawnSync(python, ["-c", 'from importlib.metadata import version; import grpc, pyvelociraptor.api_pb2_grpc; print(version("pyvelociraptor"), grpc.__version__)'], { encoding: "utf8" });
  if (probe.status !== 0)
    return (cached = { ok: false, reason: `pyvelociraptor in ${PYVR_VENV} does not import (${(probe.stderr || "").trim().split("\n").pop()}); rerun bash scripts/pyvelociraptor.sh` });
  const [pyvr, grpcio] = probe.stdout.trim().split(" ");
  return (cached = { ok: true, python, versions: `pyvelociraptor ${pyvr}, grpcio ${grpcio}` });
}

export interface WitnessArgs {
  config: string;
  query: string;
  env?: Record<string, string>;
  org?: string;
  /** VQLRequest.Name: the server echoes it in its logs, so both clients must send the same one. */
  name?: string;
  maxRow?: number;
  maxWait?: number;
  timeout?: number;
}

export interface WitnessSummary {
  rows: Record<string, unknown>[];
  columns: string[];
  /** Log messages, trailing newline removed (as our client's LogLine.message). */
  logs: string[];
  /** The gRPC status when the call failed: code name (e.g. PERMISSION_DENIED) and details. */
  error: { code: string; details: string } | null;
  responses: number;
}

export function witnessArgv(a: WitnessArgs): string[] {
  const argv = [WITNESS_SCRIPT, "--config", a.config, "--name", a.name ?? "megaraptor", "--max-row", String(a.maxRow ?? 1000), "--max-wait", String(a.maxWait ?? 1)];
  if (a.org) argv.push("--org", a.org);
  if (a.timeout) argv.push("--timeout", String(a.timeout));
  for (const [k, v] of Object.entries(a.env ?? {})) argv.push("--env", `${k}=${v}`);
  argv.push(a.query);
  return argv;
}

/** Runs one query through pyvelociraptor and returns what it received. Asynchronous, so an in-process server answers. */
export async function pyvrQuery(python: string, a: WitnessArgs): Promise<WitnessSummary> {
  const { stdout } = await run(python, witnessArgv(a), { maxBuffer: 512 * 1024 * 1024, encoding: "utf8" });
  return JSON.parse(stdout) as WitnessSummary;
}
