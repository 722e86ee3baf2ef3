// The same figures as tests/unit/cli/cost_test.cc: the console prices exactly as `thaw cost`.
import { describe, expect, it } from "vitest";
import table from "../../src/cli/prices.json";
import {
  DEFAULT_PRICES,
  INSTANCE_PRICES,
  billingSeries,
  computeCost,
  findInstance,
  formatUsd,
  gbSeconds,
  similarInstance,
  wholeRange,
  type BilledSeries,
  type Prices,
} from "../src/cost";

const START = 1_700_000_000_000;
const DAY = START + 24 * 3_600_000;

function series(endpoint: string, memoryMb: number, billedMs: number, requests: number, capacity = "OnDemand"): BilledSeries {
  return { endpoint, variant: "AllTraffic", memoryMb, capacity, billedMs, requests };
}
const prices = (p: Partial<Prices>): Prices => ({ ...DEFAULT_PRICES, ...p });

describe("prices", () => {
  it("are src/cli/prices.json, the table thaw cost compiles in", () => {
    expect(DEFAULT_PRICES.perGbSecond).toBe(0.00002);
    expect(DEFAULT_PRICES.perProvisionedGbSecond).toBe(table.serverless.provisioned_per_gb_second);
    expect(DEFAULT_PRICES.perProvisionedInferenceGbSecond).toBe(table.serverless.provisioned_inference_per_gb_second);
    expect(INSTANCE_PRICES.map((i) => i.type)).toEqual(table.instances.map((i) => i.type));
    expect(findInstance("ml.m5.large")?.usdPerHour).toBe(0.134); // the seed's figure
  });
  it("pick the similar instance by size", () => {
    expect(similarInstance(1024).type).toBe("ml.t2.medium");
    expect(similarInstance(4096).type).toBe("ml.t2.medium");
    expect(similarInstance(4097).type).toBe("ml.m5.large");
    expect(similarInstance(1 << 20).type).toBe("ml.m5.2xlarge");
  });
});

describe("cost report (thaw cost's unit tests)", () => {
  it("GB-seconds are billed seconds times memory in GB", () => {
    expect(gbSeconds(1000, 1024)).toBe(1.0);
    expect(gbSeconds(200, 2048)).toBeCloseTo(0.4, 15);
    expect(gbSeconds(1, 3072)).toBeCloseTo(0.003, 15);
  });

  it("the seed's example day", () => {
    const r = computeCost([series("xgb", 2048, 1000 * 200, 1000)], prices({ instanceType: "ml.m5.large", instancePerHour: 0.134 }), START, DAY);
    expect(r.rows).toHaveLength(1);
    const row = r.rows[0];
    expect(row.requests).toBe(1000);
    expect(row.billedSeconds).toBe(200);
    expect(row.gbSeconds).toBe(400);
    expect(row.serverlessUsd).toBeCloseTo(0.008, 12);
    expect(row.monthlyUsd).toBeCloseTo(0.24, 12);
    expect(row.instanceUsd).toBeCloseTo(0.134 * 24, 12);
    expect(row.savingsUsd).toBeCloseTo(3.216 - 0.008, 12);
    expect(row.breakEvenPerHour).toBeCloseTo(0.134 / 0.000008, 6); // 16,750 requests/h
  });

  it("folds series per variant and totals", () => {
    const r = computeCost(
      [series("a", 1024, 500, 5), series("a", 1024, 300, 3, "Provisioned"), series("b", 6144, 1000, 1)],
      prices({ perRequest: 0.000001 }),
      START,
      DAY,
    );
    expect(r.rows).toHaveLength(2);
    expect(r.rows[0].endpoint).toBe("a");
    expect(r.rows[0].requests).toBe(8);
    expect(r.rows[0].gbSeconds).toBeCloseTo(0.8, 15);
    expect(r.rows[0].provisionedGbSeconds).toBeCloseTo(0.3, 15);
    expect(r.rows[0].serverlessUsd).toBeCloseTo(0.5 * 0.00002 + 0.3 * 0.00001 + 8 * 0.000001, 15);
    expect(r.rows[0].instanceType).toBe("ml.t2.medium");
    expect(r.rows[1].instanceType).toBe("ml.m5.large");
    expect(r.rows[1].gbSeconds).toBe(6.0);
    expect(r.total.requests).toBe(9);
    expect(r.total.gbSeconds).toBeCloseTo(6.8, 12);
    expect(r.total.instanceUsd).toBeCloseTo((0.056 + 0.134) * 24, 12);
  });

  it("bills provisioned concurrency per second allocated", () => {
    const hourEnd = START + 3_600_000;
    const r = computeCost(
      [series("pc", 2048, 2000, 10, "Provisioned"), series("pc", 2048, 500, 2, "OnDemand")],
      DEFAULT_PRICES,
      START,
      hourEnd,
      [{ endpoint: "pc", variant: "AllTraffic", memoryMb: 2048, seconds: 3600 }],
    );
    const row = r.rows[0];
    expect(row.requests).toBe(12);
    expect(row.gbSeconds).toBe(5.0);
    expect(row.provisionedGbSeconds).toBe(4.0);
    expect(row.inferenceUsd).toBeCloseTo(0.00002 + 0.00004, 15);
    expect(row.provisionedSeconds).toBe(3600);
    expect(row.provisionedAllocatedGbSeconds).toBe(7200);
    expect(row.provisionedUsd).toBeCloseTo(7200 * 0.0000048, 15);
    expect(row.serverlessUsd).toBeCloseTo(0.03462, 12);
    expect(row.monthlyUsd).toBeCloseTo(0.03462 * 720, 9);
    expect(row.instanceType).toBe("ml.t2.medium");
    expect(row.instanceUsd).toBeCloseTo(0.056, 15);
    expect(row.savingsUsd).toBeCloseTo(0.056 - 0.03462, 12);
    expect(row.breakEvenPerHour).toBeCloseTo(4288, 6);
    expect(r.total.provisionedUsd).toBeCloseTo(0.03456, 12);
    expect(formatUsd(row.provisionedUsd)).toBe("$0.034560");
  });

  it("provisioned prices are configurable; PC dearer than the instance never breaks even", () => {
    const r = computeCost(
      [series("a", 1024, 3000, 3, "Provisioned")],
      prices({ perProvisionedGbSecond: 0.001, perProvisionedInferenceGbSecond: 0.0001 }),
      START,
      START + 10 * 60_000,
      [{ endpoint: "a", variant: "AllTraffic", memoryMb: 1024, seconds: 1200 }],
    );
    const row = r.rows[0];
    expect(row.provisionedUsd).toBeCloseTo(1.2, 12);
    expect(row.inferenceUsd).toBeCloseTo(0.0003, 15);
    expect(row.serverlessUsd).toBeCloseTo(1.2003, 12);
    expect(row.monthlyUsd).toBeCloseTo(1.2003 * 6 * 720, 9);
    expect(row.breakEvenPerHour).toBeNull();
    expect(row.savingsUsd).toBeLessThan(0);
  });

  it("allocated but unused still costs", () => {
    const r = computeCost([], DEFAULT_PRICES, START, DAY, [{ endpoint: "idle", variant: "AllTraffic", memoryMb: 3072, seconds: 86400 }]);
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0].memoryMb).toBe(3072);
    expect(r.rows[0].provisionedUsd).toBeCloseTo(86400 * 3 * 0.0000048, 12);
    expect(r.rows[0].breakEvenPerHour).toBeNull();
  });

  it("an unknown instance needs a price", () => {
    expect(() => computeCost([series("a", 1024, 1, 1)], prices({ instanceType: "ml.p4d.24xlarge" }), START, DAY)).toThrow(/unknown instance/);
    const r = computeCost([series("a", 1024, 1, 1)], prices({ instanceType: "ml.p4d.24xlarge", instancePerHour: 37.688 }), START, DAY);
    expect(r.rows[0].instanceType).toBe("ml.p4d.24xlarge");
    expect(r.rows[0].instanceUsd).toBeCloseTo(37.688 * 24, 9);
  });

  it("no requests, no break-even", () => {
    const r = computeCost([], DEFAULT_PRICES, START, DAY);
    expect(r.rows).toEqual([]);
    expect(r.total.breakEvenPerHour).toBeNull();
  });
});

describe("billing series and windows", () => {
  it("reads ListMetrics dimensions and the sums", () => {
    const m = [
      { MetricName: "BilledDuration", Dimensions: [
        { Name: "EndpointName", Value: "a" }, { Name: "VariantName", Value: "AllTraffic" },
        { Name: "MemorySizeInMB", Value: "2048" }, { Name: "Capacity", Value: "OnDemand" }] },
      { MetricName: "ProvisionedConcurrencySeconds", Dimensions: [
        { Name: "EndpointName", Value: "a" }, { Name: "VariantName", Value: "AllTraffic" },
        { Name: "MemorySizeInMB", Value: "2048" }] },
    ];
    const s = billingSeries(m, (i) => (i === 0 ? { sum: 1500, count: 3 } : { sum: 60, count: 60 }));
    expect(s.billed).toEqual([{ endpoint: "a", variant: "AllTraffic", memoryMb: 2048, capacity: "OnDemand", billedMs: 1500, requests: 3 }]);
    expect(s.provisioned).toEqual([{ endpoint: "a", variant: "AllTraffic", memoryMb: 2048, seconds: 60 }]);
    const r = computeCost(s.billed, DEFAULT_PRICES, START, DAY);
    expect(r.total.serverlessUsd).toBeCloseTo(3.0 * 0.00002, 15); // cost_test JsonCarriesTheFigures
  });
  it("covers a range with one whole-minute period", () => {
    expect(wholeRange(90_000, 250_000)).toEqual({ start: 60_000, end: 300_000, period: 240 });
    expect(wholeRange(60_000, 60_000).period).toBe(60);
  });
  it("formats dollars as thaw cost does", () => {
    expect(formatUsd(0)).toBe("$0.000000");
    expect(formatUsd(0.000123)).toBe("$0.000123");
    expect(formatUsd(1.234)).toBe("$1.23");
  });
});
