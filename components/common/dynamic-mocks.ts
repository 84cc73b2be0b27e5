/**
 * Answers for the project's dynamic resources when a component runs under `pulumi.runtime.setMocks` (tests, and
 * `megaraptor render kubernetes`): what their providers' `create` would return, computed in-process.
 */
import { generatePki, type PkiInputs } from "../pki/provider.js";
import { CLOCK_MARKER } from "./clock.js";

export async function answerDynamicResource(inputs: Record<string, unknown>, now: Date = new Date()): Promise<Record<string, unknown>> {
  if (inputs[CLOCK_MARKER]) return { ...inputs, createdAt: now.toISOString() };
  return { ...inputs, ...(await generatePki(inputs as unknown as PkiInputs)) };
}
