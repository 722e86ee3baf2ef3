import { describe, expect, it } from "vitest";
import {
  ENDPOINT_SERIES,
  alignSeries,
  alignedRange,
  buildQueries,
  chunk,
  endpointPrefix,
  lastNonNull,
  resultsById,
  sum,
  timeAxis,
} from "../src/metrics";

describe("buildQueries", () => {
  it("asks for each series of one endpoint's AllTraffic variant", () => {
    const q = buildQueries("ep-1", ENDPOINT_SERIES, 60);
    expect(q).toHaveLength(ENDPOINT_SERIES.length);
    const p99 = q.find((x) => x.Id === "model_p99")!;
    expect(p99.MetricStat).toEqual({
      Metric: {
        Namespace: "AWS/SageMaker",
        MetricName: "ModelLatency",
        Dimensions: [
          { Name: "EndpointName", Value: "ep-1" },
          { Name: "VariantName", Value: "AllTraffic" },
        ],
      },
      Period: 60,
      Stat: "p99",
    });
    for (const x of q) expect(x.Id).toMatch(/^[a-z][a-zA-Z0-9_]*$/);
  });

  it("prefixes ids per endpoint so one call serves a whole list", () => {
    const ids = [0, 1].flatMap((i) => buildQueries(`ep${i}`, ENDPOINT_SERIES, 300, endpointPrefix(i)).map((q) => q.Id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe("e0_inv");
  });
});

describe("time ranges", () => {
  it("aligns to the period and includes the minute in progress", () => {
    const now = Date.UTC(2026, 10, 28, 5, 30, 42);
    const r = alignedRange(now, 30);
    expect(r.end).toBe(Date.UTC(2026, 10, 28, 5, 31, 0));
    expect(r.start).toBe(Date.UTC(2026, 10, 28, 5, 1, 0));
    const axis = timeAxis(r.start, r.end);
    expect(axis).toHaveLength(30);
    expect(axis[0]).toBe(r.start / 1000);
  });

  it("aligns five-minute periods too", () => {
    const r = alignedRange(Date.UTC(2026, 0, 1, 0, 7, 0), 60, 300);
    expect(r.end).toBe(Date.UTC(2026, 0, 1, 0, 10, 0));
    expect(timeAxis(r.start, r.end, 300)).toHaveLength(12);
  });
});

describe("alignSeries", () => {
  const axis = [60, 120, 180];
  const result = { Id: "x", Timestamps: [new Date(180_000), new Date(60_000)], Values: [5, 2] };
  it("places points by time, filling counts with 0 and measurements with gaps", () => {
    expect(alignSeries(axis, result, "zero")).toEqual([2, 0, 5]);
    expect(alignSeries(axis, result, "gap")).toEqual([2, null, 5]);
  });
  it("scales (utilization × MaxConcurrency)", () => {
    expect(alignSeries(axis, result, "gap", 10)).toEqual([20, null, 50]);
  });
  it("treats a missing result as no data", () => {
    expect(alignSeries(axis, undefined, "zero")).toEqual([0, 0, 0]);
  });
});

describe("results", () => {
  it("merges paged results of the same id", () => {
    const m = resultsById([
      { Id: "a", Timestamps: [new Date(0)], Values: [1] },
      { Id: "b", Timestamps: [], Values: [] },
      { Id: "a", Timestamps: [new Date(60_000)], Values: [2] },
    ]);
    expect(m.get("a")!.Values).toEqual([1, 2]);
    expect(m.size).toBe(2);
  });
  it("sums and finds the last value", () => {
    expect(sum([1, null, 2])).toBe(3);
    expect(lastNonNull([1, 4, null])).toBe(4);
    expect(lastNonNull([null])).toBeNull();
  });
  it("chunks query lists for CloudWatch's per-call limit", () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 2)).toEqual([]);
  });
});
