// Keep-alive: per endpoint, the keep-alive policy's view as the server reports it in the
// thaw/KeepAlive CloudWatch namespace (policy, window, learned idle-time histogram, next
// pre-warm, retire time, counters), refreshed every REFRESH_MS.endpoint; and the simulator's
// Pareto plot of keep-alive policies (bench/keepalive/s100/pareto.svg, copied into the build's
// assets by Vite).

import { GetMetricDataCommand, ListMetricsCommand, type Metric, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import paretoUrl from "../../../bench/keepalive/s100/pareto.svg?url";
import { REFRESH_MS, type AppContext, type Page } from "../app";
import { errorBox, esc } from "../dom";
import { classifyError } from "../errors";
import { formatCount } from "../format";
import { KEEPALIVE_NS, formatSeconds, histogramSvg, keepAliveStates, relativeTime, type KeepAliveState } from "../keepalive";
import { chunk, resultsById } from "../metrics";
import { routeHref } from "../router";

export const PARETO_COMMAND =
  "thaw simulate --trace ../shared/traces/azure-functions-2019 --sample 100 --sweep --out bench/keepalive/s100";

function marks(s: KeepAliveState) {
  const out = [];
  if (s.prewarmAfterSeconds) out.push({ seconds: s.prewarmAfterSeconds, label: "pre-warm" });
  if (s.keepAliveSeconds) out.push({ seconds: s.keepAliveSeconds, label: "retire" });
  return out;
}

function card(s: KeepAliveState, nowMs: number): string {
  const idle = s.retireAt !== null;
  const prewarm = s.prewarmAfterSeconds ? `pre-warm ${formatSeconds(s.prewarmAfterSeconds)} after the last request, ` : "no pre-warm, ";
  const learned = s.bins.reduce((a, b) => a + b, 0);
  return `<article class="card ka" data-testid="ka-card" data-endpoint="${esc(s.endpoint)}" aria-labelledby="ka-${esc(s.endpoint)}">
    <div class="page-head"><h2 id="ka-${esc(s.endpoint)}"><a href="${routeHref({ page: "endpoint", name: s.endpoint })}">${esc(s.endpoint)}</a>
      <span class="muted small">${esc(s.variant)}</span></h2>
      <span class="badge ${s.policy === "adaptive" ? "ok" : "unknown"}" data-testid="ka-policy">${esc(s.policy || "?")}</span></div>
    <dl class="kv">
      <dt>Window</dt><dd data-testid="ka-window">${prewarm}keep warm ${formatSeconds(s.keepAliveSeconds)} after it</dd>
      <dt>Next pre-warm</dt><dd data-testid="ka-prewarm">${s.prewarmAt !== null ? `${new Date(s.prewarmAt * 1000).toLocaleTimeString()} (${relativeTime(s.prewarmAt, nowMs)})` : idle ? "none planned" : "– (busy)"}</dd>
      <dt>Retire time</dt><dd data-testid="ka-retire">${s.retireAt !== null ? `${new Date(s.retireAt * 1000).toLocaleTimeString()} (${relativeTime(s.retireAt, nowMs)})` : "– (busy, or no idle period yet)"}</dd>
      <dt>Requests</dt><dd>${formatCount(s.requests)} · cold starts <strong data-testid="ka-cold">${formatCount(s.coldStarts)}</strong></dd>
      <dt>Pre-warms</dt><dd>${formatCount(s.prewarms)} · hits ${formatCount(s.prewarmHits)} · wasted ${formatCount(s.wastedPrewarms)}</dd>
      <dt>Idle</dt><dd>${formatSeconds(s.idleWorkerSeconds)} worker time · ${s.idleGbSeconds.toFixed(1)} GB-s</dd>
    </dl>
    <h3 class="small">Learned idle times <span class="muted">${learned} in range, ${s.outOfRange} beyond${s.binSeconds ? `, bins of ${formatSeconds(s.binSeconds)}` : ""}</span></h3>
    <div data-testid="ka-histogram" data-count="${learned}">${learned && s.binSeconds ? histogramSvg(s.bins, s.binSeconds, marks(s)) : `<p class="muted small">No idle period recorded yet: the histogram fills as requests arrive after idle times.</p>`}</div>
  </article>`;
}

export function renderKeepAlive(el: HTMLElement, ctx: AppContext): Page {
  el.innerHTML = `
  <section aria-labelledby="ka-title">
    <div class="page-head"><h1 id="ka-title">Keep-alive</h1></div>
    <p class="muted">When each endpoint's idle workers retire and whether one is started ahead of the predicted next
      request: the server's keep-alive policy, read from the CloudWatch namespace <code>${KEEPALIVE_NS}</code>
      (refreshed every ${REFRESH_MS.endpoint / 1000} s).</p>
    <div id="ka-status" aria-live="polite"></div>
    <div id="ka-body" class="ka-grid"><p class="muted">Loading…</p></div>
    <figure class="card pareto" data-testid="pareto">
      <img src="${paretoUrl}" alt="Pareto plot: cold-start rate against idle memory (GB-hours) for fixed keep-alive windows and the adaptive policy, Azure Functions 2019 sample of 100 apps, one day" width="720" height="480" />
      <figcaption>The simulator's sweep of keep-alive policies (one day of 100 Azure Functions apps, replayed through the server's own policy code), made by
        <code data-testid="pareto-command">${esc(PARETO_COMMAND)}</code></figcaption>
    </figure>
  </section>`;
  const status = el.querySelector("#ka-status") as HTMLElement;
  const body = el.querySelector("#ka-body") as HTMLElement;
  let timer: number | undefined;
  let disposed = false;

  async function refresh() {
    try {
      const listed: Metric[] = [];
      let token: string | undefined;
      do {
        const r = await ctx.clients.cloudwatch.send(new ListMetricsCommand({ Namespace: KEEPALIVE_NS, NextToken: token }));
        listed.push(...(r.Metrics ?? []));
        token = r.NextToken;
      } while (token);
      const now = Date.now();
      const values = new Map<string, number>();
      const queries: MetricDataQuery[] = listed.map((m, i) => ({ Id: `k${i}`, MetricStat: { Metric: m, Period: 60, Stat: "Maximum" } }));
      for (const part of chunk(queries, 450)) {
        const r = await ctx.clients.cloudwatch.send(
          new GetMetricDataCommand({ MetricDataQueries: part, StartTime: new Date(now - 120_000), EndTime: new Date(now + 60_000) }),
        );
        for (const [id, res] of resultsById(r.MetricDataResults)) {
          if (res.Values?.length) values.set(id, res.Values[0]);
        }
      }
      if (disposed) return;
      const states = keepAliveStates(listed, (i) => values.get(`k${i}`));
      body.innerHTML = states.length
        ? states.map((s) => card(s, now)).join("")
        : `<div class="empty card" data-testid="ka-empty"><p>No endpoint is serving: deploy one to see its keep-alive policy.</p></div>`;
      status.innerHTML = "";
    } catch (err) {
      const c = classifyError(err);
      if (c.kind === "auth") return ctx.authFailed(c.message);
      status.innerHTML = errorBox(c.title, c.message, c.kind === "unreachable" ? "unreachable" : "error");
    } finally {
      if (!disposed) timer = window.setTimeout(refresh, REFRESH_MS.endpoint);
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
