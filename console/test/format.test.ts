import { describe, expect, it } from "vitest";
import { formatAgo, formatBytes, formatCount, formatMemory, formatMicros, statusClass } from "../src/format";

describe("format", () => {
  it("prints latencies from microseconds", () => {
    expect(formatMicros(850)).toBe("850 µs");
    expect(formatMicros(1500)).toBe("1.50 ms");
    expect(formatMicros(25_400)).toBe("25.4 ms");
    expect(formatMicros(2_500_000)).toBe("2.50 s");
    expect(formatMicros(null)).toBe("–");
    expect(formatMicros(NaN)).toBe("–");
  });
  it("prints counts compactly", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(12)).toBe("12");
    expect(formatCount(2.5)).toBe("2.5");
    expect(formatCount(1234)).toBe("1.2k");
    expect(formatCount(45_000)).toBe("45k");
    expect(formatCount(3_200_000)).toBe("3.2M");
  });
  it("prints sizes, memory and ages", () => {
    expect(formatBytes(500)).toBe("500 B");
    expect(formatBytes(2048)).toBe("2.0 KiB");
    expect(formatMemory(2048)).toBe("2 GB");
    expect(formatMemory(undefined)).toBe("–");
    expect(formatAgo(0, 5_000)).toBe("5 s ago");
    expect(formatAgo(0, 125_000)).toBe("2 min ago");
    expect(formatAgo(0, 7_300_000)).toBe("2 h ago");
  });
  it("colours statuses", () => {
    expect(statusClass("InService")).toBe("ok");
    expect(statusClass("Failed")).toBe("bad");
    expect(statusClass("Creating")).toBe("busy");
    expect(statusClass(undefined)).toBe("unknown");
  });
});
