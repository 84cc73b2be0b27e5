/**
 * Budget guard: refuses a run that would exceed the monthly budget or use an instance larger than allowed. Prices are
 * list prices in USD per hour (Linux, on-demand; spot/low-priority estimated at 35 %), AWS eu-west-1 and Azure West
 * Europe, taken from the providers' public price pages on 2026-11-01 — an estimate to stop mistakes, not a bill.
 */
import { MegaraptorError } from "../../core/errors.js";
import type { Provider } from "./guards.js";

export const PRICE_SOURCE = "AWS EC2 and Azure VM public list prices, eu-west-1 / westeurope, 2026-11-01";
export const SPOT_FACTOR = 0.35;

export const HOURLY_USD: Record<Provider, Record<string, { usd: number; vcpu: number }>> = {
  aws: {
    "t3.small": { usd: 0.0228, vcpu: 2 },
    "t3.medium": { usd: 0.0456, vcpu: 2 },
    "t3.large": { usd: 0.0912, vcpu: 2 },
    "m6i.large": { usd: 0.107, vcpu: 2 },
    "m6i.xlarge": { usd: 0.214, vcpu: 4 },
    "m6i.2xlarge": { usd: 0.428, vcpu: 8 },
  },
  azure: {
    Standard_B1ms: { usd: 0.0228, vcpu: 1 },
    Standard_B2s: { usd: 0.0456, vcpu: 2 },
    Standard_D2s_v5: { usd: 0.107, vcpu: 2 },
    Standard_D4s_v5: { usd: 0.214, vcpu: 4 },
    Standard_D8s_v5: { usd: 0.428, vcpu: 8 },
  },
};

export class BudgetExceededError extends MegaraptorError {
  constructor(message: string, hint: string) {
    super("BUDGET_EXCEEDED", message, { hint });
  }
}

export interface BudgetInput {
  provider: Provider;
  instanceType: string;
  hours: number;
  spot: boolean;
  monthlyBudgetUsd: number;
  spentThisMonthUsd: number;
  maxVcpu: number;
}

export function estimateRunUsd(provider: Provider, instanceType: string, hours: number, spot: boolean): number {
  const p = HOURLY_USD[provider][instanceType];
  if (!p) throw new BudgetExceededError(`${instanceType} is not in the allowed ${provider} instance list`, `Allowed: ${Object.keys(HOURLY_USD[provider]).join(", ")} (prices: ${PRICE_SOURCE}).`);
  // Disks, IPs and traffic add a little; 20 % covers them for a 2-hour test.
  return Math.round(p.usd * (spot ? SPOT_FACTOR : 1) * hours * 1.2 * 10_000) / 10_000;
}

export function checkBudget(b: BudgetInput): { estimateUsd: number; remainingUsd: number } {
  const p = HOURLY_USD[b.provider][b.instanceType];
  const estimateUsd = estimateRunUsd(b.provider, b.instanceType, b.hours, b.spot);
  if (p!.vcpu > b.maxVcpu) throw new BudgetExceededError(`${b.instanceType} has ${p!.vcpu} vCPUs, above the limit of ${b.maxVcpu}`, "Use a smaller instance (minimal/rapid profiles) or raise MEGARAPTOR_CLOUD_MAX_VCPU.");
  const remainingUsd = b.monthlyBudgetUsd - b.spentThisMonthUsd;
  if (estimateUsd > remainingUsd)
    throw new BudgetExceededError(`this run (~$${estimateUsd.toFixed(2)}) exceeds the remaining monthly budget ($${remainingUsd.toFixed(2)} of $${b.monthlyBudgetUsd})`, "Wait for next month, raise MEGARAPTOR_CLOUD_MONTHLY_BUDGET_USD, or use spot.");
  return { estimateUsd, remainingUsd };
}
