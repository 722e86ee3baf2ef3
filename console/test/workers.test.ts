import { describe, expect, it } from "vitest";
import { WorkerHistory, parseWorkers } from "../src/workers";

describe("parseWorkers", () => {
  it("reads thaw_workers by endpoint and state", () => {
    const text = `# HELP thaw_workers Worker processes by endpoint, variant and state.
# TYPE thaw_workers gauge
thaw_memory_reserved_mb 2048
thaw_workers{endpoint="a",variant="AllTraffic",state="starting"} 0
thaw_workers{endpoint="a",variant="AllTraffic",state="idle"} 2
thaw_workers{endpoint="a",variant="AllTraffic",state="busy"} 1
thaw_workers{endpoint="b-1",variant="AllTraffic",state="idle"} 0
thaw_workers{endpoint="b-1",variant="AllTraffic",state="weird"} 9
`;
    const m = parseWorkers(text);
    expect(m.get("a")).toEqual({ starting: 0, idle: 2, busy: 1 });
    expect(m.get("b-1")).toEqual({ starting: 0, idle: 0, busy: 0 });
    expect(m.size).toBe(2);
  });
  it("keeps a bounded history", () => {
    const h = new WorkerHistory(2);
    h.add(1, { starting: 1, idle: 0, busy: 0 });
    h.add(2, { starting: 0, idle: 1, busy: 0 });
    h.add(3, { starting: 0, idle: 0, busy: 1 });
    expect(h.x).toEqual([2, 3]);
    expect(h.busy).toEqual([0, 1]);
  });
});
