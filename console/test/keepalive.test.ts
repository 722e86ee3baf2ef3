import { describe, expect, it } from "vitest";
import { formatSeconds, histogramSvg, keepAliveStates, relativeTime } from "../src/keepalive";

const dims = (ep: string, extra: Record<string, string> = {}) => [
  { Name: "EndpointName", Value: ep },
  { Name: "VariantName", Value: "AllTraffic" },
  ...Object.entries(extra).map(([Name, Value]) => ({ Name, Value })),
];

describe("keep-alive states", () => {
  it("fold the thaw/KeepAlive series per endpoint", () => {
    const series = [
      { MetricName: "Policy", Dimensions: dims("b", { Policy: "adaptive" }) },
      { MetricName: "IdleTimes", Dimensions: dims("b", { Bin: "3" }) },
      { MetricName: "IdleTimes", Dimensions: dims("b", { Bin: "1" }) },
      { MetricName: "KeepAliveSeconds", Dimensions: dims("b") },
      { MetricName: "PrewarmAt", Dimensions: dims("b") },
      { MetricName: "RetireAt", Dimensions: dims("b") },
      { MetricName: "ColdStarts", Dimensions: dims("b") },
      { MetricName: "Policy", Dimensions: dims("a", { Policy: "fixed" }) },
      { MetricName: "KeepAliveSeconds", Dimensions: dims("a") },
      { MetricName: "RetireAt", Dimensions: dims("a") },
    ];
    const values = [1, 4, 2, 330, 1000, 1300, 7, 1, 600, undefined];
    const s = keepAliveStates(series, (i) => values[i]);
    expect(s.map((x) => x.endpoint)).toEqual(["a", "b"]);
    expect(s[0].policy).toBe("fixed");
    expect(s[0].keepAliveSeconds).toBe(600);
    expect(s[0].retireAt).toBeNull(); // no datapoint: busy
    expect(s[1].policy).toBe("adaptive");
    expect(s[1].bins).toEqual([0, 2, 0, 4]);
    expect(s[1].prewarmAt).toBe(1000);
    expect(s[1].retireAt).toBe(1300);
    expect(s[1].coldStarts).toBe(7);
  });
  it("format times", () => {
    expect(relativeTime(1000, 958_000)).toBe("in 42 s");
    expect(relativeTime(1000, 1_180_000)).toBe("3 min ago");
    expect(formatSeconds(45)).toBe("45 s");
    expect(formatSeconds(600)).toBe("10 min");
    expect(formatSeconds(5400)).toBe("90 min");
    expect(formatSeconds(9000)).toBe("2.5 h");
    expect(formatSeconds(null)).toBe("–");
  });
  it("draws one bar per non-empty bin", () => {
    const svg = histogramSvg([0, 2, 0, 4], 60);
    expect(svg.match(/class="bar"/g)).toHaveLength(2);
    expect(svg).toContain('data-bin="3" data-count="4"');
    expect(svg).toContain("6 idle times in bins of 60 s");
    // A window mark in range is drawn, one beyond it is not.
    expect(histogramSvg([3], 1, [{ seconds: 5, label: "retire" }])).toContain('class="mark"');
    expect(histogramSvg([3], 1, [{ seconds: 600, label: "retire" }])).not.toContain('class="mark"');
  });
});
