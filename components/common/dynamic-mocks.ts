/**
 * Answers for the project's dynamic resources when a component runs under `pulumi.runtime.setMocks` (tests, and
 * `megaraptor render kubernetes`): what their providers' `create` would return, computed in-process.
 */
import { generatePki, type PkiInputs } from "../pki/provider.js";
import { desired, type SshInstallInputs } from "../ssh/plan.js";
import { SSH_INSTALL_TYPE } from "../ssh/provider.js";
import { CLOCK_MARKER } from "./clock.js";

/** Pulumi's marker of a secret value on the wire (sdk/nodejs/runtime/rpc.ts specialSigKey / specialSecretSig). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Inputs as a provider sees them: secrets unwrapped. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG] === SECRET_VALUE) return plain(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

export async function answerDynamicResource(inputs: Record<string, unknown>, now: Date = new Date(), type?: string): Promise<Record<string, unknown>> {
  if (inputs[CLOCK_MARKER]) return { ...inputs, createdAt: now.toISOString() };
  // The SSH install as if the host now held exactly what was asked for.
  if (type === SSH_INSTALL_TYPE) return { ...inputs, observed: desired(plain(inputs) as unknown as SshInstallInputs) };
  return { ...inputs, ...(await generatePki(inputs as unknown as PkiInputs)) };
}
