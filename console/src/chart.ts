// uPlot wrappers: a line chart for the endpoint page and a sparkline for the list.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface LineSpec {
  label: string;
  color: string;
  dash?: number[];
}

const fmtTime = (t: number, seconds = false) => {
  const d = new Date(t * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}${seconds ? `:${p(d.getSeconds())}` : ""}`;
};

export class LineChart {
  private plot: uPlot;
  constructor(
    private readonly el: HTMLElement,
    title: string,
    lines: LineSpec[],
    valueFmt: (v: number) => string,
    seconds = false,
  ) {
    const opts: uPlot.Options = {
      title,
      width: this.width(),
      height: 180,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 1) * 1.1)] } },
      axes: [
        { values: (_u, ts) => ts.map((t) => fmtTime(t, seconds)), stroke: "#555" },
        { values: (_u, vs) => vs.map((v) => valueFmt(v)), size: 80, stroke: "#555" },
      ],
      series: [
        { label: "time", value: (_u, v) => (v == null ? "–" : fmtTime(v, true)) },
        ...lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          width: 2,
          dash: l.dash,
          spanGaps: false,
          points: { show: true, size: 4 },
          value: (_u: uPlot, v: number | null) => (v == null ? "–" : valueFmt(v)),
        })),
      ],
    };
    this.plot = new uPlot(opts, [[], ...lines.map(() => [])], el);
    el.dataset.points = "0";
  }

  private width(): number {
    return Math.max(260, Math.floor(this.el.clientWidth || this.el.parentElement?.clientWidth || 400) - 4);
  }

  setData(x: number[], ys: (number | null)[][]): void {
    this.plot.setData([x, ...ys] as uPlot.AlignedData);
    // For tests and for people: how many real (non-null, non-zero) points the chart holds.
    let points = 0;
    for (const y of ys) for (const v of y) if (v !== null && v !== 0) points++;
    this.el.dataset.points = String(points);
  }

  resize(): void {
    this.plot.setSize({ width: this.width(), height: 180 });
  }

  destroy(): void {
    this.plot.destroy();
  }
}

export function sparkline(el: HTMLElement, x: number[], ys: (number | null)[][], colors: string[]): uPlot {
  return new uPlot(
    {
      width: 120,
      height: 28,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] } },
      axes: [{ show: false }, { show: false }],
      series: [{}, ...colors.map((c) => ({ stroke: c, width: 1.5, points: { show: false } }))],
    },
    [x, ...ys] as uPlot.AlignedData,
    el,
  );
}
