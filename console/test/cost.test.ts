import { describe, expect, it } from "vitest";
import { costReport, formatUsd, wholeRange } from "../src/cost";

describe("cost report", () => {
  it("prices on-demand GB-seconds and compares with an always-on instance", () => {
    // 2 GB × 1,000 s billed = 2,000 GB-s = $0.04; 1 GB × 500 ms under provisioned concurrency.
    const r = costReport(
      [
        { memoryMb: 2048, capacity: "OnDemand", value: 1_000_000 },
        { memoryMb: 1024, capacity: "Provisioned", value: 500 },
      ],
      [{ memoryMb: 1024, capacity: "", value: 3600 }],
      0,
      10 * 3_600_000,
    );
    expect(r.onDemandGbS).toBeCloseTo(2000);
    expect(r.onDemandUsd).toBeCloseTo(0.04);
    expect(r.provisionedInvocationGbS).toBeCloseTo(0.5);
    expect(r.provisionedAllocatedGbS).toBeCloseTo(3600);
    expect(r.hours).toBe(10);
    expect(r.instanceUsd).toBeCloseTo(1.02);
  });
  it("covers a range with one whole-minute period", () => {
    const r = wholeRange(90_000, 250_000);
    expect(r).toEqual({ start: 60_000, end: 300_000, period: 240 });
    expect(wholeRange(60_000, 60_000).period).toBe(60);
  });
  it("formats dollars", () => {
    expect(formatUsd(0)).toBe("$0");
    expect(formatUsd(0.000123)).toBe("$0.00012");
    expect(formatUsd(1.234)).toBe("$1.23");
  });
});
