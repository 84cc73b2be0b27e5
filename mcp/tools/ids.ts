/** Input schemas for Velociraptor identifiers, with messages that name the expected form and give an example. */
import { z } from "zod";

export const ClientId = z
  .string()
  .regex(/^C\.[0-9a-f]{16}$/, { message: "expected a client id: C. followed by 16 lowercase hex digits, e.g. C.1a2b3c4d5e6f7a01 (find ids with list_clients)" })
  .describe("Velociraptor client id, e.g. C.1a2b3c4d5e6f7a01");

export const ClientOrServerId = z
  .string()
  .regex(/^(C\.[0-9a-f]{16}|server)$/, { message: "expected a client id like C.1a2b3c4d5e6f7a01, or 'server' for server artifacts" })
  .describe("client id, or 'server' for server artifacts");

export const FlowId = z
  .string()
  .regex(/^F\.[A-Za-z0-9]+$/, { message: "expected a flow id: F. followed by letters/digits, e.g. F.CT1PSLIST01 (find ids with list_flows)" })
  .describe("flow id, e.g. F.CT1PSLIST01");

export const HuntId = z
  .string()
  .regex(/^H\.[A-Za-z0-9]+$/, { message: "expected a hunt id: H. followed by letters/digits, e.g. H.CT1HUNT0001 (find ids with list_hunts)" })
  .describe("hunt id, e.g. H.CT1HUNT0001");

export const ArtifactName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+(\/[A-Za-z0-9_ -]+)?$/, {
    message: "expected an artifact name like Windows.System.Pslist (optionally /Source); find names with list_artifacts",
  })
  .describe("artifact name, e.g. Windows.System.Pslist; Artifact/Source for one source");

export const OrgId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: "expected an org id such as root or O123 (see list_orgs)" }).optional().describe("org; default if omitted");

export const Labels = z.array(z.string().min(1).max(128).regex(/^[^\n\r]+$/, { message: "labels are single-line text" })).min(1);

export const CaseId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { message: "expected a case id such as IR-2026-042 (letters, digits, . _ -; up to 64)" })
  .describe("case id linking reports, ledger and audit entries");
