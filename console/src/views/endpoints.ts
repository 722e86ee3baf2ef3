// The endpoints list: status, serverless config, the last hour's invocations and errors
// (sparkline), p99 latency and cold starts, refreshed every REFRESH_MS.list.

import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointsCommand,
  type EndpointSummary,
} from "@aws-sdk/client-sagemaker";
import { REFRESH_MS, type AppContext, type Page } from "../app";
import { sparkline } from "../chart";
import { errorBox, esc } from "../dom";
import { classifyError } from "../errors";
import { formatAgo, formatCount, formatMemory, formatMicros, statusClass } from "../format";
import {
  LIST_HOUR,
  LIST_SPARK,
  alignSeries,
  alignedRange,
  buildQueries,
  chunk,
  endpointPrefix,
  lastNonNull,
  resultsById,
  sum,
  timeAxis,
  type MetricQuery,
} from "../metrics";
import { fetchBilling } from "../billing";
import { DEFAULT_PRICES, computeCost, formatUsd, wholeRange } from "../cost";
import { routeHref } from "../router";
import { serverlessOf, type EndpointRow } from "../state";
import { fetchWorkers } from "../workers";

export function renderEndpoints(el: HTMLElement, ctx: AppContext): Page {
  el.innerHTML = `
  <section aria-labelledby="list-title">
    <div class="page-head">
      <h1 id="list-title">Endpoints</h1>
      <a class="button primary" href="${routeHref({ page: "deploy" })}">Deploy a model</a>
    </div>
    <div id="list-status" aria-live="polite"></div>
    <div id="list-body"><p class="muted">Loading…</p></div>
  </section>`;
  const status = el.querySelector("#list-status") as HTMLElement;
  const body = el.querySelector("#list-body") as HTMLElement;
  const configCache = new Map<string, ReturnType<typeof serverlessOf>>();
  let timer: number | undefined;
  let disposed = false;

  async function listAll(): Promise<EndpointSummary[]> {
    const out: EndpointSummary[] = [];
    let token: string | undefined;
    do {
      const page = await ctx.clients.sagemaker.send(new ListEndpointsCommand({ MaxResults: 100, NextToken: token, SortBy: "Name", SortOrder: "Ascending" }));
      out.push(...(page.Endpoints ?? []));
      token = page.NextToken;
    } while (token);
    return out;
  }

  async function rowOf(s: EndpointSummary): Promise<EndpointRow> {
    const name = s.EndpointName!;
    const row: EndpointRow = { name, status: s.EndpointStatus ?? "?", configName: "", created: s.CreationTime };
    try {
      const d = await ctx.clients.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
      row.status = d.EndpointStatus ?? row.status;
      row.failureReason = d.FailureReason;
      row.configName = d.EndpointConfigName ?? "";
      if (row.configName && !configCache.has(row.configName)) {
        const c = await ctx.clients.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: row.configName }));
        configCache.set(row.configName, serverlessOf(c));
      }
      Object.assign(row, configCache.get(row.configName) ?? {});
    } catch (err) {
      if (classifyError(err).kind !== "not-found") throw err;
    }
    return row;
  }

  async function refresh() {
    try {
      const summaries = await listAll();
      const rows = await Promise.all(summaries.map(rowOf));
      if (disposed) return;
      if (!rows.length) {
        body.innerHTML = `<div class="empty card" data-testid="empty-list"><p>No endpoints yet.</p>
          <p><a class="button primary" href="${routeHref({ page: "deploy" })}">Deploy your first model</a></p></div>`;
        status.innerHTML = "";
        return;
      }
      const now = Date.now();
      const hour = alignedRange(now, 60, 60);
      const sparkRange = alignedRange(now, 60, 300);
      const sparkQueries: MetricQuery[] = [];
      const hourQueries: MetricQuery[] = [];
      rows.forEach((r, i) => {
        sparkQueries.push(...buildQueries(r.name, LIST_SPARK, 300, endpointPrefix(i)));
        hourQueries.push(...buildQueries(r.name, LIST_HOUR, 3600, endpointPrefix(i)));
      });
      let metricsError: string | null = null;
      const spark = new Map();
      const hourly = new Map();
      const costs = new Map<string, number>();
      try {
        for (const part of chunk(sparkQueries, 450)) {
          const r = await ctx.clients.cloudwatch.send(new GetMetricDataCommand({ MetricDataQueries: part, StartTime: new Date(sparkRange.start), EndTime: new Date(sparkRange.end), ScanBy: "TimestampAscending" }));
          for (const [k, v] of resultsById(r.MetricDataResults)) spark.set(k, v);
        }
        for (const part of chunk(hourQueries, 450)) {
          const r = await ctx.clients.cloudwatch.send(new GetMetricDataCommand({ MetricDataQueries: part, StartTime: new Date(hour.end - 3600 * 1000), EndTime: new Date(hour.end), ScanBy: "TimestampAscending" }));
          for (const [k, v] of resultsById(r.MetricDataResults)) hourly.set(k, v);
        }
        // Cost so far: thaw/Billing since the oldest endpoint was created (an endpoint has no
        // billing series before its own creation), priced as thaw cost prices it.
        const oldest = Math.min(...rows.map((r) => (r.created ? new Date(r.created).getTime() : now)));
        const range = wholeRange(oldest, now);
        const { billed, provisioned } = await fetchBilling(ctx.clients.cloudwatch, undefined, range);
        for (const row of computeCost(billed, DEFAULT_PRICES, range.start, range.end, provisioned).rows) {
          costs.set(row.endpoint, (costs.get(row.endpoint) ?? 0) + row.serverlessUsd);
        }
      } catch (err) {
        const c = classifyError(err);
        if (c.kind === "auth") throw err;
        metricsError = `${c.title}: ${c.message}`;
      }
      if (disposed) return;
      const workers = await fetchWorkers(window.location.origin);
      const axis = timeAxis(sparkRange.start, sparkRange.end, 300);
      body.innerHTML = `
      <div class="table-wrap"><table class="endpoints" data-testid="endpoints-table">
        <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Memory</th>
        <th scope="col" title="MaxConcurrency">Max conc.</th><th scope="col">Provisioned</th>
        <th scope="col" title="Warm workers now (idle + busy)">Warm</th>
        <th scope="col">Last hour</th><th scope="col">Invocations</th><th scope="col">Errors</th>
        <th scope="col" title="ModelLatency p99 over the last hour">p99 latency</th>
        <th scope="col" title="Cold starts (ModelSetupTime samples) over the last hour">Cold starts</th>
        <th scope="col" title="Serverless cost since creation (thaw/Billing, thaw cost's prices)">Cost so far</th>
        <th scope="col">Created</th></tr></thead>
        <tbody>${rows
          .map((r, i) => {
            const p = endpointPrefix(i);
            const inv = alignSeries(axis, spark.get(p + "inv"), "zero");
            const err = alignSeries(axis, spark.get(p + "e4xx"), "zero").map((v, k) => (v ?? 0) + (alignSeries(axis, spark.get(p + "e5xx"), "zero")[k] ?? 0));
            const p99 = lastNonNull(alignSeries([hour.end / 1000 - 3600], hourly.get(p + "p99"), "gap"));
            const cold = sum(alignSeries([hour.end / 1000 - 3600], hourly.get(p + "cold"), "zero"));
            return `<tr data-endpoint="${esc(r.name)}">
              <td><a href="${routeHref({ page: "endpoint", name: r.name })}">${esc(r.name)}</a></td>
              <td><span class="badge ${statusClass(r.status)}">${esc(r.status)}</span>${r.failureReason ? `<div class="reason">${esc(r.failureReason)}</div>` : ""}</td>
              <td>${formatMemory(r.memoryMb)}</td><td>${r.maxConcurrency ?? "–"}</td><td>${r.provisioned || "–"}</td>
              <td class="num">${(() => { const w = workers?.get(r.name); return w ? w.idle + w.busy : 0; })()}</td>
              <td><div class="spark" data-i="${i}" data-inv="${esc(JSON.stringify(inv))}" data-err="${esc(JSON.stringify(err))}"></div></td>
              <td class="num">${formatCount(sum(inv))}</td><td class="num">${formatCount(sum(err))}</td>
              <td class="num">${formatMicros(p99)}</td><td class="num">${formatCount(cold)}</td>
              <td class="num" data-testid="list-cost">${metricsError ? "–" : formatUsd(costs.get(r.name) ?? 0)}</td>
              <td>${r.created ? formatAgo(new Date(r.created).getTime(), now) : "–"}</td></tr>`;
          })
          .join("")}</tbody></table></div>`;
      body.querySelectorAll<HTMLElement>(".spark").forEach((s) => {
        sparkline(s, axis, [JSON.parse(s.dataset.inv!), JSON.parse(s.dataset.err!)], ["#2563eb", "#dc2626"]);
      });
      status.innerHTML = metricsError ? errorBox("Metrics unavailable", metricsError, "metrics-error") : "";
    } catch (err) {
      const c = classifyError(err);
      if (c.kind === "auth") return ctx.authFailed(c.message);
      status.innerHTML = errorBox(c.title, c.message, c.kind === "unreachable" ? "unreachable" : "error");
    } finally {
      if (!disposed) timer = window.setTimeout(refresh, REFRESH_MS.list);
    }
  }
  void refresh();
  return {
    dispose() {
      disposed = true;
      window.clearTimeout(timer);
    },
  };
}
