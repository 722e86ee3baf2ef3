// The cost report: what this endpoint would have cost on SageMaker Serverless Inference, from
// thaw's own billing metrics (namespace thaw/Billing: BilledDuration in ms per MemorySizeInMB and
// Capacity, ProvisionedConcurrencySeconds per MemorySizeInMB), against an always-on instance
// for the same time. Prices: /work/shared/design/PERFORMANCE-ANCHORS.md §6 (us-east-1).

export const PRICE_PER_GB_S = 0.00002; // SageMaker Serverless on-demand, $ per GB-second
export const INSTANCE = { name: "ml.c5.large", usdPerHour: 0.102 }; // the comparable real-time instance
export const BILLING_NS = "thaw/Billing";

export interface BilledSeries {
  memoryMb: number;
  capacity: string; // "OnDemand" | "Provisioned"
  value: number; // BilledDuration: ms; ProvisionedConcurrencySeconds: seconds
}

export interface CostReport {
  onDemandGbS: number;
  onDemandUsd: number;
  provisionedInvocationGbS: number; // invocations served by provisioned workers (not priced here)
  provisionedAllocatedGbS: number; // provisioned concurrency held (not priced here)
  instanceUsd: number;
  hours: number;
}

export function costReport(billed: BilledSeries[], provisionedSeconds: BilledSeries[], fromMs: number, toMs: number): CostReport {
  let onDemandGbS = 0;
  let provisionedInvocationGbS = 0;
  for (const b of billed) {
    const gbS = (b.memoryMb / 1024) * (b.value / 1000);
    if (b.capacity === "Provisioned") provisionedInvocationGbS += gbS;
    else onDemandGbS += gbS;
  }
  let provisionedAllocatedGbS = 0;
  for (const p of provisionedSeconds) provisionedAllocatedGbS += (p.memoryMb / 1024) * p.value;
  const hours = Math.max(0, toMs - fromMs) / 3_600_000;
  return {
    onDemandGbS,
    onDemandUsd: onDemandGbS * PRICE_PER_GB_S,
    provisionedInvocationGbS,
    provisionedAllocatedGbS,
    instanceUsd: hours * INSTANCE.usdPerHour,
    hours,
  };
}

// One period covering [from, to) in whole minutes (CloudWatch: a multiple of 60 s).
export function wholeRange(fromMs: number, toMs: number): { start: number; end: number; period: number } {
  const start = Math.floor(fromMs / 60_000) * 60_000;
  const end = Math.max(start + 60_000, Math.ceil(toMs / 60_000) * 60_000);
  return { start, end, period: (end - start) / 1000 };
}

export function formatUsd(v: number): string {
  if (v === 0) return "$0";
  if (v < 0.01) return `$${v.toPrecision(2)}`;
  return `$${v.toFixed(2)}`;
}
