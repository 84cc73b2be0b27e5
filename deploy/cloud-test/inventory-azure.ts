/**
 * Azure inventory for the reaper: every resource and resource group carrying the megaraptor:test-run tag in the
 * subscription, through Azure Resource Graph (one KQL query, paged with $skipToken). Listing only — deletion happens
 * through the stacks that own the resources, or by a human from the report.
 */
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { DefaultAzureCredential } from "@azure/identity";
import type { Inventory, TaggedResource } from "./reaper.js";
import { TAG_RUN } from "./run.js";

type Querier = Pick<ResourceGraphClient, "resources">;

// Resource groups live in ResourceContainers, everything else in Resources; the tag key is a constant, not input.
export const AZURE_TEST_QUERY = `Resources | union ResourceContainers | where isnotempty(tags['${TAG_RUN}']) | project id, type, tags | order by id asc`;

export function azureInventory(subscriptionId: string, client: Querier = new ResourceGraphClient(new DefaultAzureCredential())): Inventory {
  return {
    provider: "azure",
    async listTestResources(): Promise<TaggedResource[]> {
      const out: TaggedResource[] = [];
      let skipToken: string | undefined;
      do {
        const page = await client.resources({ subscriptions: [subscriptionId], query: AZURE_TEST_QUERY, options: { resultFormat: "objectArray", top: 1000, ...(skipToken ? { skipToken } : {}) } });
        // resultFormat objectArray: data is an array of rows (the SDK types it as a generic record).
        for (const r of (page.data as unknown as { id?: string; type?: string; tags?: Record<string, string> | null }[] | undefined) ?? [])
          out.push({ provider: "azure", id: r.id ?? "", type: r.type ?? "", tags: r.tags ?? {} });
        skipToken = page.skipToken || undefined;
      } while (skipToken);
      return out;
    },
  };
}
