// Reads thaw/Billing through CloudWatch (ListMetrics, then one GetMetricData of Sum and
// SampleCount per series over one whole-range period) into cost.ts's series: what `thaw cost`
// reads (it asks GetMetricStatistics; the sums are the same).

import { GetMetricDataCommand, ListMetricsCommand, type CloudWatchClient, type Metric, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { BILLING_NS, billingSeries, type BilledSeries, type ProvisionedSeries } from "./cost";
import { chunk, resultsById, sum } from "./metrics";

export async function fetchBilling(
  cw: CloudWatchClient,
  endpoint: string | undefined,
  range: { start: number; end: number; period: number },
): Promise<{ billed: BilledSeries[]; provisioned: ProvisionedSeries[] }> {
  const metrics: Metric[] = [];
  let token: string | undefined;
  do {
    const r = await cw.send(
      new ListMetricsCommand({
        Namespace: BILLING_NS,
        Dimensions: endpoint ? [{ Name: "EndpointName", Value: endpoint }] : undefined,
        NextToken: token,
      }),
    );
    metrics.push(...(r.Metrics ?? []).filter((m) => m.MetricName && m.Dimensions));
    token = r.NextToken;
  } while (token);
  const sums = new Map<string, number>();
  const queries: MetricDataQuery[] = metrics.flatMap((m, i) => [
    { Id: `s${i}`, MetricStat: { Metric: m, Period: range.period, Stat: "Sum" } },
    { Id: `c${i}`, MetricStat: { Metric: m, Period: range.period, Stat: "SampleCount" } },
  ]);
  for (const part of chunk(queries, 450)) {
    const r = await cw.send(
      new GetMetricDataCommand({ MetricDataQueries: part, StartTime: new Date(range.start), EndTime: new Date(range.end) }),
    );
    for (const [id, res] of resultsById(r.MetricDataResults)) sums.set(id, sum(res.Values ?? []));
  }
  return billingSeries(metrics, (i) => ({ sum: sums.get(`s${i}`) ?? 0, count: sums.get(`c${i}`) ?? 0 }));
}
