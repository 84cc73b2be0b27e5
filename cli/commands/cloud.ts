/** `megaraptor cloud reap|budget`: housekeeping for cloud test runs. */
import type { Command } from "commander";
import { InputError } from "../../core/errors.js";

export function register(program: Command): void {
  const cloud = program.command("cloud").description("Cloud test runs: reaper and budget guard");
  cloud
    .command("reap")
    .description("Destroy expired test stacks (tag megaraptor:test-run + megaraptor:expires-at); --dry-run lists them")
    .option("--dry-run", "list only")
    .option("--provider <p>", "aws | azure | all", "all")
    .action(async (o: { dryRun?: boolean; provider: "aws" | "azure" | "all" }) => {
      const { credentialsMissing } = await import("../../deploy/cloud-test/guards.js");
      const { reap } = await import("../../deploy/cloud-test/reaper.js");
      const { automationEngine } = await import("../../deploy/operations/index.js");
      // Leftovers outside any stack are looked up where credentials exist (AWS: Resource Groups Tagging API).
      const inventories = [];
      if ((o.provider === "aws" || o.provider === "all") && !credentialsMissing("aws")) inventories.push((await import("../../deploy/cloud-test/inventory-aws.js")).awsInventory());
      // Azure: Resource Graph over the subscription (credentials from the environment / OIDC via DefaultAzureCredential).
      if ((o.provider === "azure" || o.provider === "all") && !credentialsMissing("azure") && process.env.AZURE_SUBSCRIPTION_ID)
        inventories.push((await import("../../deploy/cloud-test/inventory-azure.js")).azureInventory(process.env.AZURE_SUBSCRIPTION_ID));
      const r = await reap(await automationEngine(), { dryRun: !!o.dryRun, provider: o.provider, inventories });
      process.stdout.write(JSON.stringify(r, null, 2) + "\n");
      if (r.errors.length) process.exitCode = 1;
    });
  cloud
    .command("budget")
    .description("Refuse (exit 1) when a test run would exceed MEGARAPTOR_CLOUD_MONTHLY_BUDGET_USD or MEGARAPTOR_CLOUD_MAX_VCPU")
    .requiredOption("--provider <p>", "aws | azure")
    .option("--instance-type <t>", "instance type / VM size")
    .option("--on-demand", "price without spot")
    .action(async (o: { provider: string; instanceType?: string; onDemand?: boolean }) => {
      const { checkBudget, PRICE_SOURCE } = await import("../../deploy/cloud-test/budget.js");
      const { ttlHours } = await import("../../deploy/cloud-test/run.js");
      const { numericSetting } = await import("../../core/settings.js");
      if (o.provider !== "aws" && o.provider !== "azure") throw new InputError("--provider", `unknown provider "${o.provider}"`, "Use aws or azure.");
      const r = checkBudget({
        provider: o.provider,
        instanceType: o.instanceType ?? (o.provider === "aws" ? "t3.small" : "Standard_B1ms"),
        hours: ttlHours(),
        spot: !o.onDemand,
        monthlyBudgetUsd: numericSetting("MEGARAPTOR_CLOUD_MONTHLY_BUDGET_USD"),
        spentThisMonthUsd: numericSetting("MEGARAPTOR_CLOUD_SPENT_USD"),
        maxVcpu: numericSetting("MEGARAPTOR_CLOUD_MAX_VCPU"),
      });
      process.stdout.write(`OK: estimated $${r.estimateUsd.toFixed(2)} for this run, $${r.remainingUsd.toFixed(2)} left this month (${PRICE_SOURCE})\n`);
    });
}
