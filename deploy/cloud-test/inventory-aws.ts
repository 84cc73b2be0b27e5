/**
 * AWS inventory for the reaper: every resource carrying the megaraptor:test-run tag, through the Resource Groups
 * Tagging API (GetResources, paginated). Listing only — deletion happens through the stacks that own the resources.
 */
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import type { Inventory, TaggedResource } from "./reaper.js";
import { TAG_RUN } from "./run.js";

type Sender = Pick<ResourceGroupsTaggingAPIClient, "send">;

export function awsInventory(client: Sender = new ResourceGroupsTaggingAPIClient({})): Inventory {
  return {
    provider: "aws",
    async listTestResources(): Promise<TaggedResource[]> {
      const out: TaggedResource[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new GetResourcesCommand({ TagFilters: [{ Key: TAG_RUN }], PaginationToken: token, ResourcesPerPage: 100 }));
        for (const r of page.ResourceTagMappingList ?? []) {
          const arn = r.ResourceARN ?? "";
          // arn:aws:<service>:<region>:<account>:<type>/<id>
          const [, , service, , , rest = ""] = arn.split(":");
          out.push({ provider: "aws", id: arn, type: `${service}:${rest.split("/")[0]}`, tags: Object.fromEntries((r.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])) });
        }
        token = page.PaginationToken || undefined;
      } while (token);
      return out;
    },
  };
}
