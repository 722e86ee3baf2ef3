// CloudWatch GetMetricData queries the pages ask for, and the shaping of their answers into
// aligned chart series. Pure: no SDK import, so it runs under Vitest as is.
//
// thaw's metric data is per minute (Period ≥ 60, a multiple of 60); times are rounded down to
// the minute on the server, so the client aligns its ranges the same way and fills missing
// minutes with null (no data) or 0 (counts).

export const SAGEMAKER_NS = "AWS/SageMaker";
export const VARIANT = "AllTraffic";

export interface MetricQuery {
  Id: string;
  Label?: string;
  ReturnData?: boolean;
  MetricStat: {
    Metric: {
      Namespace: string;
      MetricName: string;
      Dimensions: { Name: string; Value: string }[];
    };
    Period: number;
    Stat: string;
  };
}

export interface MetricResult {
  Id?: string;
  Timestamps?: Date[];
  Values?: number[];
}

export interface SeriesSpec {
  id: string;
  metric: string;
  stat: string;
  // How a missing minute is drawn: counts are 0, measurements are gaps.
  fill: "zero" | "gap";
}

// What the endpoint page draws (ids are CloudWatch query ids: lower-case first letter).
export const ENDPOINT_SERIES: SeriesSpec[] = [
  { id: "inv", metric: "Invocations", stat: "Sum", fill: "zero" },
  { id: "e4xx", metric: "Invocation4XXErrors", stat: "Sum", fill: "zero" },
  { id: "e5xx", metric: "Invocation5XXErrors", stat: "Sum", fill: "zero" },
  { id: "model_p50", metric: "ModelLatency", stat: "p50", fill: "gap" },
  { id: "model_p99", metric: "ModelLatency", stat: "p99", fill: "gap" },
  { id: "over_p50", metric: "OverheadLatency", stat: "p50", fill: "gap" },
  { id: "over_p99", metric: "OverheadLatency", stat: "p99", fill: "gap" },
  { id: "setup_avg", metric: "ModelSetupTime", stat: "Average", fill: "gap" },
  { id: "cold", metric: "ModelSetupTime", stat: "SampleCount", fill: "zero" },
  { id: "conc", metric: "ServerlessConcurrentExecutionsUtilization", stat: "Maximum", fill: "gap" },
];

export function variantDimensions(endpoint: string, variant = VARIANT) {
  return [
    { Name: "EndpointName", Value: endpoint },
    { Name: "VariantName", Value: variant },
  ];
}

export function buildQueries(
  endpoint: string,
  specs: SeriesSpec[],
  period: number,
  idPrefix = "",
  variant = VARIANT,
): MetricQuery[] {
  return specs.map((s) => ({
    Id: idPrefix + s.id,
    Label: `${endpoint} ${s.metric} ${s.stat}`,
    ReturnData: true,
    MetricStat: {
      Metric: { Namespace: SAGEMAKER_NS, MetricName: s.metric, Dimensions: variantDimensions(endpoint, variant) },
      Period: period,
      Stat: s.stat,
    },
  }));
}

// [start, end) in ms, aligned to `period` seconds, ending after the current minute so the
// minute in progress is shown.
export function alignedRange(nowMs: number, minutes: number, period = 60): { start: number; end: number } {
  const p = period * 1000;
  const end = Math.floor(nowMs / p) * p + p;
  return { start: end - minutes * 60 * 1000, end };
}

// The x axis (seconds since the epoch, uPlot's unit) for [start, end) by period.
export function timeAxis(start: number, end: number, period = 60): number[] {
  const xs: number[] = [];
  for (let t = start; t < end; t += period * 1000) xs.push(t / 1000);
  return xs;
}

// One result's values placed on the axis; missing points become 0 or null per `fill`.
export function alignSeries(
  axis: number[],
  result: MetricResult | undefined,
  fill: "zero" | "gap",
  scale = 1,
): (number | null)[] {
  const byTime = new Map<number, number>();
  const ts = result?.Timestamps ?? [];
  const vs = result?.Values ?? [];
  for (let i = 0; i < ts.length && i < vs.length; i++) {
    byTime.set(Math.floor(new Date(ts[i]).getTime() / 1000), vs[i]);
  }
  return axis.map((x) => {
    const v = byTime.get(x);
    if (v === undefined) return fill === "zero" ? 0 : null;
    return v * scale;
  });
}

export function resultsById(results: MetricResult[] | undefined): Map<string, MetricResult> {
  const m = new Map<string, MetricResult>();
  for (const r of results ?? []) {
    if (!r.Id) continue;
    const prev = m.get(r.Id);
    if (!prev) {
      m.set(r.Id, { Id: r.Id, Timestamps: [...(r.Timestamps ?? [])], Values: [...(r.Values ?? [])] });
    } else {
      // GetMetricData pages (NextToken) return the same id again with more points.
      prev.Timestamps!.push(...(r.Timestamps ?? []));
      prev.Values!.push(...(r.Values ?? []));
    }
  }
  return m;
}

export function sum(values: (number | null)[]): number {
  let s = 0;
  for (const v of values) if (v !== null) s += v;
  return s;
}

export function lastNonNull(values: (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
  return null;
}

// Query ids must start with a lower-case letter and hold only [a-zA-Z0-9_]: one prefix per
// endpoint of a list ("e0_", "e1_", …).
export function endpointPrefix(index: number): string {
  return `e${index}_`;
}

// The list page's per-endpoint numbers over the last hour: a 5-minute sparkline of invocations
// and errors, p99 model latency and the count of cold starts over the whole hour.
export const LIST_SPARK: SeriesSpec[] = [
  { id: "inv", metric: "Invocations", stat: "Sum", fill: "zero" },
  { id: "e4xx", metric: "Invocation4XXErrors", stat: "Sum", fill: "zero" },
  { id: "e5xx", metric: "Invocation5XXErrors", stat: "Sum", fill: "zero" },
];
export const LIST_HOUR: SeriesSpec[] = [
  { id: "p99", metric: "ModelLatency", stat: "p99", fill: "gap" },
  { id: "ovp99", metric: "OverheadLatency", stat: "p99", fill: "gap" },
  { id: "cold", metric: "ModelSetupTime", stat: "SampleCount", fill: "zero" },
];

// Split queries into GetMetricData calls of at most `max` (CloudWatch allows 500).
export function chunk<T>(items: T[], max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += max) out.push(items.slice(i, i + max));
  return out;
}
