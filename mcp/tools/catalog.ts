/** The live artifact catalog for tools: the dfir/collection service, with the MCP layer's allow-list as its gate. */
import { checkArtifacts as check, type Catalog } from "../../dfir/collection/catalog.js";
import type { ToolContext } from "./define.js";
import { collectionSession } from "./session.js";

export { loadCatalog, perArtifactParameters, type Catalog, type CatalogEntry } from "../../dfir/collection/catalog.js";

/** Checks artifact and parameter names against the catalog (and the allow-list's names); see the service. */
export function checkArtifacts(ctx: ToolContext, artifacts: string[], parameters: Record<string, Record<string, string>>, field = "artifacts", loaded?: Catalog): Promise<Catalog> {
  return check(collectionSession(ctx), artifacts, parameters, field, loaded);
}
