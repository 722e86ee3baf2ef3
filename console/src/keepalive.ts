// The keep-alive page's data: the thaw/KeepAlive CloudWatch namespace (the server's live view of
// each endpoint's keep-alive policy; docs/ARCHITECTURE.md § Keep-alive state) folded into one
// state per endpoint. Pure: the page lists the series (ListMetrics), asks GetMetricData for
// their Maximum now, and hands both here.

export const KEEPALIVE_NS = "thaw/KeepAlive";

export interface ListedSeries {
  MetricName?: string;
  Dimensions?: { Name?: string; Value?: string }[];
}

export interface KeepAliveState {
  endpoint: string;
  variant: string;
  policy: string; // "adaptive" | "fixed"
  keepAliveSeconds: number | null;
  prewarmAfterSeconds: number | null;
  prewarmAt: number | null; // epoch seconds; only while idle with a pre-warm window
  retireAt: number | null; // epoch seconds; only while idle
  binSeconds: number | null;
  bins: number[]; // idle times per bin, 0 … the last non-empty bin
  outOfRange: number;
  requests: number;
  coldStarts: number;
  prewarms: number;
  prewarmHits: number;
  wastedPrewarms: number;
  idleWorkerSeconds: number;
  idleGbSeconds: number;
}

function blank(endpoint: string, variant: string): KeepAliveState {
  return {
    endpoint, variant, policy: "", keepAliveSeconds: null, prewarmAfterSeconds: null, prewarmAt: null,
    retireAt: null, binSeconds: null, bins: [], outOfRange: 0, requests: 0, coldStarts: 0, prewarms: 0,
    prewarmHits: 0, wastedPrewarms: 0, idleWorkerSeconds: 0, idleGbSeconds: 0,
  };
}

// `value(i)`: the current value of listed series i (undefined when it had no datapoint).
export function keepAliveStates(series: ListedSeries[], value: (index: number) => number | undefined): KeepAliveState[] {
  const states = new Map<string, KeepAliveState>();
  series.forEach((m, i) => {
    const dim = (n: string) => m.Dimensions?.find((d) => d.Name === n)?.Value;
    const endpoint = dim("EndpointName");
    const variant = dim("VariantName") ?? "";
    if (!endpoint || !m.MetricName) return;
    const key = `${endpoint}\u0000${variant}`;
    let s = states.get(key);
    if (!s) states.set(key, (s = blank(endpoint, variant)));
    const v = value(i);
    switch (m.MetricName) {
      case "Policy":
        s.policy = dim("Policy") ?? "";
        return;
      case "IdleTimes": {
        const bin = Number(dim("Bin"));
        if (!Number.isInteger(bin) || bin < 0 || bin > 100_000 || v === undefined) return;
        while (s.bins.length <= bin) s.bins.push(0);
        s.bins[bin] = v;
        return;
      }
    }
    if (v === undefined) return;
    const fields: Record<string, keyof KeepAliveState> = {
      KeepAliveSeconds: "keepAliveSeconds", PrewarmAfterSeconds: "prewarmAfterSeconds", PrewarmAt: "prewarmAt",
      RetireAt: "retireAt", IdleTimeBinSeconds: "binSeconds", IdleTimesOutOfRange: "outOfRange",
      Requests: "requests", ColdStarts: "coldStarts", Prewarms: "prewarms", PrewarmHits: "prewarmHits",
      WastedPrewarms: "wastedPrewarms", IdleWorkerSeconds: "idleWorkerSeconds", IdleGBSeconds: "idleGbSeconds",
    };
    const f = fields[m.MetricName];
    if (f) (s as unknown as Record<string, number>)[f] = v;
  });
  return [...states.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
}

// "in 42 s", "3 min ago": an epoch-seconds instant relative to now (ms).
export function relativeTime(epochS: number, nowMs: number): string {
  const d = Math.round(epochS - nowMs / 1000);
  const a = Math.abs(d);
  const text = a < 120 ? `${a} s` : a < 7200 ? `${Math.round(a / 60)} min` : `${(a / 3600).toFixed(1)} h`;
  return d >= 0 ? `in ${text}` : `${text} ago`;
}

// "45 s", "10 min", "1.5 h" for a duration in seconds.
export function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return "–";
  if (s < 120) return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  if (s < 7200) return `${+(s / 60).toFixed(1)} min`;
  return `${+(s / 3600).toFixed(1)} h`;
}

// The histogram as SVG bars (no chart library needed): bin i spans [i, i+1) × binSeconds. At
// least `minBins` bins are drawn (a lone first bin is not a full-width block); `marks` (seconds:
// the window's pre-warm and keep-alive) are dashed lines where they fall in range.
export function histogramSvg(
  bins: number[],
  binSeconds: number,
  marks: { seconds: number; label: string }[] = [],
  minBins = 10,
  width = 520,
  height = 140,
): string {
  const n = Math.max(bins.length + 1, minBins);
  const max = Math.max(1, ...bins);
  const left = 34;
  const bottom = 22;
  const w = (width - left - 6) / n;
  const h = height - bottom - 8;
  const bars = bins
    .map((c, i) => {
      if (!c) return "";
      const bh = (c / max) * h;
      const label = `${formatSeconds(i * binSeconds)}–${formatSeconds((i + 1) * binSeconds)}: ${c}`;
      return `<rect class="bar" data-bin="${i}" data-count="${c}" x="${(left + i * w + 0.5).toFixed(1)}" y="${(8 + h - bh).toFixed(1)}" width="${Math.max(1, w - 1).toFixed(1)}" height="${bh.toFixed(1)}"><title>${label}</title></rect>`;
    })
    .join("");
  const ticks = [0, Math.floor(n / 2), n].filter((t, i, a) => a.indexOf(t) === i);
  const xLabels = ticks
    .map((t) => `<text x="${(left + t * w).toFixed(1)}" y="${height - 6}" text-anchor="middle">${formatSeconds(t * binSeconds)}</text>`)
    .join("");
  const lines = marks
    .filter((m) => m.seconds > 0 && m.seconds <= n * binSeconds)
    .map((m) => {
      const x = (left + (m.seconds / binSeconds) * w).toFixed(1);
      return `<line class="mark" x1="${x}" y1="8" x2="${x}" y2="${8 + h}"><title>${m.label}</title></line><text x="${x}" y="7" text-anchor="middle">${m.label}</text>`;
    })
    .join("");
  return `<svg class="histogram" viewBox="0 0 ${width} ${height}" role="img" aria-label="Idle-time histogram: ${bins.reduce((a, b) => a + b, 0)} idle times in bins of ${formatSeconds(binSeconds)}">
    <line x1="${left}" y1="${8 + h}" x2="${width - 6}" y2="${8 + h}" class="axis"/>
    <text x="${left - 4}" y="14" text-anchor="end">${max}</text><text x="${left - 4}" y="${8 + h}" text-anchor="end">0</text>
    ${bars}${lines}${xLabels}</svg>`;
}
