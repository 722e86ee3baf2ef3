// The cost report, as `thaw cost` computes it (src/cli/cost.cc ComputeCost, ported line for
// line) and with the same prices: src/cli/prices.json is the one price table, compiled into the
// binary at build time and imported here. Inputs are thaw's own billing series (namespace
// thaw/Billing: BilledDuration in ms per MemorySizeInMB and Capacity — Sum and SampleCount —
// and ProvisionedConcurrencySeconds per MemorySizeInMB), read through CloudWatch like any
// client's.

import table from "../../src/cli/prices.json";

export const BILLING_NS = "thaw/Billing";
const SECONDS_PER_MONTH = 30 * 24 * 3600; // the seed's month: 24 × 30 hours

export interface InstancePrice {
  type: string;
  memoryMb: number;
  usdPerHour: number;
}

export const INSTANCE_PRICES: InstancePrice[] = table.instances.map((i) => ({
  type: i.type,
  memoryMb: i.memory_mb,
  usdPerHour: i.usd_per_hour,
}));

export interface Prices {
  perGbSecond: number;
  perRequest: number;
  perProvisionedGbSecond: number;
  perProvisionedInferenceGbSecond: number;
  instanceType: string; // "" = the similar instance by memory
  instancePerHour?: number; // overrides the table's price
}

export const DEFAULT_PRICES: Prices = {
  perGbSecond: table.serverless.per_gb_second,
  perRequest: table.serverless.per_request,
  perProvisionedGbSecond: table.serverless.provisioned_per_gb_second,
  perProvisionedInferenceGbSecond: table.serverless.provisioned_inference_per_gb_second,
  instanceType: "",
};

// thaw/Billing BilledDuration of one (endpoint, variant, memory, capacity).
export interface BilledSeries {
  endpoint: string;
  variant: string;
  memoryMb: number;
  capacity: string; // "OnDemand" | "Provisioned"
  billedMs: number; // Sum over the window
  requests: number; // SampleCount over the window
}

// thaw/Billing ProvisionedConcurrencySeconds of one (endpoint, variant, memory).
export interface ProvisionedSeries {
  endpoint: string;
  variant: string;
  memoryMb: number;
  seconds: number; // Sum over the window: allocated PC × seconds
}

export interface CostRow {
  endpoint: string;
  variant: string;
  memoryMb: number;
  requests: number;
  billedSeconds: number;
  gbSeconds: number; // all invocations
  provisionedGbSeconds: number; // the part served by provisioned capacity
  inferenceUsd: number;
  provisionedSeconds: number;
  provisionedAllocatedGbSeconds: number;
  provisionedUsd: number;
  serverlessUsd: number;
  monthlyUsd: number;
  instanceType: string;
  instancePerHour: number;
  instanceUsd: number;
  savingsUsd: number;
  breakEvenPerHour: number | null;
}

export interface CostReport {
  startMs: number;
  endMs: number;
  windowSeconds: number;
  rows: CostRow[]; // by endpoint, variant
  total: CostRow; // endpoint "TOTAL"
}

export function gbSeconds(billedMs: number, memoryMb: number): number {
  return (billedMs / 1000.0) * memoryMb / 1024.0;
}

export function breakEvenPerHour(instancePerHour: number, costPerRequest: number): number | null {
  if (costPerRequest <= 0) return null;
  return instancePerHour / costPerRequest;
}

export function findInstance(type: string): InstancePrice | undefined {
  return INSTANCE_PRICES.find((p) => p.type === type);
}

// The smallest general-purpose instance (not ml.c5.*) with at least `memoryMb`; else the largest.
export function similarInstance(memoryMb: number): InstancePrice {
  let best: InstancePrice | undefined;
  let largest: InstancePrice | undefined;
  for (const p of INSTANCE_PRICES) {
    if (p.type.startsWith("ml.c5")) continue;
    if (!largest || p.memoryMb > largest.memoryMb) largest = p;
    if (p.memoryMb >= memoryMb && (!best || p.memoryMb < best.memoryMb)) best = p;
  }
  return best ?? largest!;
}

function emptyRow(endpoint: string, variant: string): CostRow {
  return {
    endpoint, variant, memoryMb: 0, requests: 0, billedSeconds: 0, gbSeconds: 0, provisionedGbSeconds: 0,
    inferenceUsd: 0, provisionedSeconds: 0, provisionedAllocatedGbSeconds: 0, provisionedUsd: 0,
    serverlessUsd: 0, monthlyUsd: 0, instanceType: "", instancePerHour: 0, instanceUsd: 0, savingsUsd: 0,
    breakEvenPerHour: null,
  };
}

function price(row: CostRow, prices: Prices, windowS: number) {
  const onDemandGbSeconds = row.gbSeconds - row.provisionedGbSeconds;
  row.inferenceUsd =
    onDemandGbSeconds * prices.perGbSecond +
    row.provisionedGbSeconds * prices.perProvisionedInferenceGbSecond +
    row.requests * prices.perRequest;
  row.provisionedUsd = row.provisionedAllocatedGbSeconds * prices.perProvisionedGbSecond;
  row.serverlessUsd = row.inferenceUsd + row.provisionedUsd;
  row.monthlyUsd = windowS > 0 ? (row.serverlessUsd * SECONDS_PER_MONTH) / windowS : 0;
  row.instanceUsd = (row.instancePerHour * windowS) / 3600.0;
  row.savingsUsd = row.instanceUsd - row.serverlessUsd;
  const provisionedPerHour = windowS > 0 ? (row.provisionedUsd * 3600.0) / windowS : 0;
  row.breakEvenPerHour =
    row.requests > 0 && row.instancePerHour > provisionedPerHour
      ? breakEvenPerHour(row.instancePerHour - provisionedPerHour, row.inferenceUsd / row.requests)
      : null;
}

// One row per (endpoint, variant) and a total, priced; throws when `prices.instanceType` names
// no known instance and no price is given (thaw cost's usage error).
export function computeCost(
  series: BilledSeries[],
  prices: Prices,
  startMs: number,
  endMs: number,
  provisioned: ProvisionedSeries[] = [],
): CostReport {
  let fixed: InstancePrice | undefined;
  if (prices.instanceType) {
    fixed = findInstance(prices.instanceType);
    if (!fixed && prices.instancePerHour === undefined) {
      throw new Error(`unknown instance type ${prices.instanceType} (give its hourly price)`);
    }
  }
  const rows = new Map<string, CostRow>();
  const rowOf = (endpoint: string, variant: string) => {
    const key = `${endpoint}\u0000${variant}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = emptyRow(endpoint, variant)));
    return r;
  };
  for (const s of series) {
    const row = rowOf(s.endpoint, s.variant);
    row.memoryMb = Math.max(row.memoryMb, s.memoryMb);
    row.requests += s.requests;
    row.billedSeconds += s.billedMs / 1000.0;
    row.gbSeconds += gbSeconds(s.billedMs, s.memoryMb);
    if (s.capacity === "Provisioned") row.provisionedGbSeconds += gbSeconds(s.billedMs, s.memoryMb);
  }
  for (const s of provisioned) {
    const row = rowOf(s.endpoint, s.variant);
    row.memoryMb = Math.max(row.memoryMb, s.memoryMb);
    row.provisionedSeconds += s.seconds;
    row.provisionedAllocatedGbSeconds += gbSeconds(s.seconds * 1000.0, s.memoryMb);
  }
  const windowS = (endMs - startMs) / 1000;
  const total = emptyRow("TOTAL", "-");
  const out: CostRow[] = [];
  // std::map order: by endpoint, then variant (code-unit order, as std::string compares).
  const keys = [...rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const row = rows.get(key)!;
    const instance = fixed ?? similarInstance(row.memoryMb);
    row.instanceType = fixed || !prices.instanceType ? instance.type : prices.instanceType;
    row.instancePerHour = prices.instancePerHour ?? instance.usdPerHour;
    price(row, prices, windowS);
    total.requests += row.requests;
    total.billedSeconds += row.billedSeconds;
    total.gbSeconds += row.gbSeconds;
    total.provisionedGbSeconds += row.provisionedGbSeconds;
    total.provisionedSeconds += row.provisionedSeconds;
    total.provisionedAllocatedGbSeconds += row.provisionedAllocatedGbSeconds;
    total.instancePerHour += row.instancePerHour;
    out.push(row);
  }
  total.instanceType = out.length === 1 ? out[0].instanceType : "-";
  price(total, prices, windowS);
  return { startMs, endMs, windowSeconds: windowS, rows: out, total };
}

// One period covering [from, to) in whole minutes (CloudWatch: a multiple of 60 s).
export function wholeRange(fromMs: number, toMs: number): { start: number; end: number; period: number } {
  const start = Math.floor(fromMs / 60_000) * 60_000;
  const end = Math.max(start + 60_000, Math.ceil(toMs / 60_000) * 60_000);
  return { start, end, period: (end - start) / 1000 };
}

// thaw cost's dollar format: six decimals under $1 (a few requests cost fractions of a cent).
export function formatUsd(v: number): string {
  return Math.abs(v) < 1 ? `$${v.toFixed(6)}` : `$${v.toFixed(2)}`;
}

// A ListMetrics answer on thaw/Billing and the GetMetricData sums, folded into the series above.
export interface ListedMetric {
  MetricName?: string;
  Dimensions?: { Name?: string; Value?: string }[];
}

export function billingSeries(
  metrics: ListedMetric[],
  sums: (index: number) => { sum: number; count: number },
): { billed: BilledSeries[]; provisioned: ProvisionedSeries[] } {
  const billed: BilledSeries[] = [];
  const provisioned: ProvisionedSeries[] = [];
  metrics.forEach((m, i) => {
    const dim = (n: string) => m.Dimensions?.find((d) => d.Name === n)?.Value ?? "";
    const { sum, count } = sums(i);
    const base = { endpoint: dim("EndpointName"), variant: dim("VariantName"), memoryMb: Number(dim("MemorySizeInMB")) };
    if (m.MetricName === "BilledDuration") {
      billed.push({ ...base, capacity: dim("Capacity"), billedMs: sum, requests: count });
    } else if (m.MetricName === "ProvisionedConcurrencySeconds") {
      provisioned.push({ ...base, seconds: sum });
    }
  });
  return { billed, provisioned };
}
