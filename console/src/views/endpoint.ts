// One endpoint: status and deployed config, live charts (every REFRESH_MS.endpoint), a test-invoke
// panel, a live log tail (FilterLogEvents), update to another config and delete.

import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { fetchBilling } from "../billing";
import { DEFAULT_PRICES, INSTANCE_PRICES, computeCost, formatUsd, wholeRange } from "../cost";
import { FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointConfigsCommand,
  UpdateEndpointCommand,
} from "@aws-sdk/client-sagemaker";
import { InvokeEndpointCommand } from "@aws-sdk/client-sagemaker-runtime";
import { REFRESH_MS, type AppContext, type Page } from "../app";
import { LineChart } from "../chart";
import { $, errorBox, esc } from "../dom";
import { classifyError } from "../errors";
import { formatClock, formatCount, formatMemory, formatMicros, statusClass } from "../format";
import { ENDPOINT_SERIES, alignSeries, alignedRange, buildQueries, lastNonNull, resultsById, sum, timeAxis } from "../metrics";
import { routeHref } from "../router";
import { LogWindow, serverlessOf, startKind } from "../state";
import { WorkerHistory, fetchWorkers } from "../workers";

const WINDOW_MINUTES = 30;
// CloudWatch's latency unit is microseconds.
const us = (v: number) => formatMicros(v);

export function renderEndpoint(el: HTMLElement, ctx: AppContext, name: string): Page {
  el.innerHTML = `
  <section aria-labelledby="ep-title">
    <p class="crumbs"><a href="${routeHref({ page: "endpoints" })}">Endpoints</a> /</p>
    <div class="page-head">
      <h1 id="ep-title">${esc(name)} <span id="ep-status" class="badge unknown" data-testid="status">…</span></h1>
      <div class="actions">
        <button id="open-update">Update…</button>
        <button id="open-delete" class="danger">Delete…</button>
      </div>
    </div>
    <div id="ep-error" aria-live="polite"></div>
    <div class="tiles" id="tiles"></div>
    <div class="grid2">
      <div class="card" id="config-card"><h2>Deployed configuration</h2><div id="config"><p class="muted">Loading…</p></div></div>
      <div class="card" id="cost-card"><h2>Cost so far</h2><div id="cost" data-testid="cost"><p class="muted">Loading…</p></div></div>
      <div class="card" id="invoke-card">
        <h2>Test invoke</h2>
        <form id="invoke-form">
          <div class="row">
            <label>Content type <select name="contentType">
              <option>text/csv</option><option>application/json</option><option>text/plain</option><option>application/x-npy</option>
            </select></label>
            <label>Accept <input name="accept" placeholder="(model default)" spellcheck="false" /></label>
          </div>
          <label>Body <textarea name="body" rows="3" spellcheck="false">0.5,-1.2,0.3,2.0</textarea></label>
          <button type="submit" class="primary">Invoke</button>
        </form>
        <div id="invoke-result" aria-live="polite"></div>
      </div>
    </div>
    <h2>Metrics <span class="muted small">last ${WINDOW_MINUTES} min, per minute, refreshed every ${REFRESH_MS.endpoint / 1000} s</span></h2>
    <div id="metrics-error" aria-live="polite"></div>
    <div class="charts">
      <div class="chart card" id="chart-inv" data-testid="chart-invocations"></div>
      <div class="chart card" id="chart-model" data-testid="chart-latency"></div>
      <div class="chart card" id="chart-over"></div>
      <div class="chart card" id="chart-setup"></div>
      <div class="chart card" id="chart-conc"></div>
      <div class="chart card" id="chart-workers" data-testid="chart-workers"></div>
    </div>
    <div class="card">
      <div class="page-head"><h2>Logs <span class="muted small">/aws/sagemaker/Endpoints/${esc(name)}</span></h2>
      <button id="logs-toggle" aria-pressed="false">Pause</button></div>
      <div id="logs-state" class="muted small" aria-live="polite">Waiting for log events…</div>
      <div id="logs" class="logs" role="log" tabindex="0" data-testid="logs"></div>
    </div>
  </section>
  <dialog id="update-dialog" aria-labelledby="update-title">
    <form method="dialog" id="update-form">
      <h2 id="update-title">Update ${esc(name)}</h2>
      <p>Switch the endpoint to another endpoint configuration. It keeps serving until the new one is in service.</p>
      <label>Endpoint configuration <select name="config" id="update-config"></select></label>
      <div id="update-error"></div>
      <div class="actions"><button value="cancel" formnovalidate>Cancel</button><button value="ok" class="primary" id="update-confirm">Update</button></div>
    </form>
  </dialog>
  <dialog id="delete-dialog" aria-labelledby="delete-title">
    <form method="dialog" id="delete-form">
      <h2 id="delete-title">Delete ${esc(name)}?</h2>
      <p>The endpoint stops serving and its workers stop. Its model and configuration are kept.</p>
      <div id="delete-error"></div>
      <div class="actions"><button value="cancel">Cancel</button><button value="ok" class="danger" id="delete-confirm">Delete endpoint</button></div>
    </form>
  </dialog>`;

  let disposed = false;
  let timer: number | undefined;
  let logTimer: number | undefined;
  let maxConcurrency = 1;
  let currentConfig = "";
  let createdMs = 0;
  let tick = 0;
  const charts = {
    inv: new LineChart($(el, "#chart-inv"), "Invocations and errors / min", [
      { label: "Invocations", color: "#2563eb" },
      { label: "4xx", color: "#d97706" },
      { label: "5xx", color: "#dc2626" },
    ], (v) => formatCount(v)),
    model: new LineChart($(el, "#chart-model"), "ModelLatency", [
      { label: "p50", color: "#059669" },
      { label: "p99", color: "#7c3aed" },
    ], us),
    over: new LineChart($(el, "#chart-over"), "OverheadLatency", [
      { label: "p50", color: "#059669" },
      { label: "p99", color: "#7c3aed" },
    ], us),
    setup: new LineChart($(el, "#chart-setup"), "Cold starts: ModelSetupTime (avg)", [{ label: "avg", color: "#0891b2" }], us),
    conc: new LineChart($(el, "#chart-conc"), "Concurrent executions vs MaxConcurrency", [
      { label: "concurrent (max)", color: "#2563eb" },
      { label: "MaxConcurrency", color: "#9ca3af", dash: [6, 4] },
    ], (v) => formatCount(v)),
  };
  const workersChart = new LineChart($(el, "#chart-workers"), "Workers by state (sampled while this page is open)", [
    { label: "starting", color: "#d97706" },
    { label: "idle", color: "#059669" },
    { label: "busy", color: "#2563eb" },
  ], (v) => formatCount(v), true);
  (charts as Record<string, LineChart>).workers = workersChart;
  const workerHistory = new WorkerHistory();
  const onResize = () => Object.values(charts).forEach((c) => c.resize());
  window.addEventListener("resize", onResize);

  const fail = (target: string, err: unknown, testId = "error") => {
    const c = classifyError(err);
    if (c.kind === "auth") {
      ctx.authFailed(c.message);
      return true;
    }
    $(el, target).innerHTML = errorBox(c.title, c.message, testId);
    return false;
  };

  async function describe() {
    const d = await ctx.clients.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
    createdMs = d.CreationTime ? new Date(d.CreationTime).getTime() : createdMs;
    const badge = $(el, "#ep-status");
    badge.textContent = d.EndpointStatus ?? "?";
    badge.className = `badge ${statusClass(d.EndpointStatus)}`;
    $(el, "#ep-error").innerHTML = d.FailureReason ? errorBox(`Endpoint ${d.EndpointStatus}`, d.FailureReason, "failure-reason") : "";
    if (d.EndpointConfigName && d.EndpointConfigName !== currentConfig) {
      currentConfig = d.EndpointConfigName;
      const c = await ctx.clients.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: currentConfig }));
      const s = serverlessOf(c);
      maxConcurrency = s.maxConcurrency ?? 1;
      const modelName = c.ProductionVariants?.[0]?.ModelName ?? "";
      let image = "–";
      let dataUrl = "–";
      try {
        const m = await ctx.clients.sagemaker.send(new DescribeModelCommand({ ModelName: modelName }));
        image = m.PrimaryContainer?.Image ?? m.Containers?.[0]?.Image ?? "–";
        dataUrl = m.PrimaryContainer?.ModelDataUrl ?? m.Containers?.[0]?.ModelDataUrl ?? "–";
      } catch (err) {
        if (classifyError(err).kind !== "not-found") throw err;
        image = "(model deleted)";
      }
      $(el, "#config").innerHTML = `<dl class="kv" data-testid="config">
        <dt>Endpoint config</dt><dd>${esc(currentConfig)}</dd>
        <dt>Model</dt><dd>${esc(modelName)}</dd>
        <dt>Image</dt><dd class="mono">${esc(image)}</dd>
        <dt>Model data</dt><dd class="mono">${esc(dataUrl)}</dd>
        <dt>Memory</dt><dd>${formatMemory(s.memoryMb)}</dd>
        <dt>MaxConcurrency</dt><dd>${s.maxConcurrency ?? "–"}</dd>
        <dt>Provisioned</dt><dd>${s.provisioned || "none"}</dd>
        <dt>Created</dt><dd>${d.CreationTime ? new Date(d.CreationTime).toLocaleString() : "–"}</dd>
      </dl>`;
    }
  }

  async function metrics() {
    const range = alignedRange(Date.now(), WINDOW_MINUTES, 60);
    const r = await ctx.clients.cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: buildQueries(name, ENDPOINT_SERIES, 60),
        StartTime: new Date(range.start),
        EndTime: new Date(range.end),
        ScanBy: "TimestampAscending",
      }),
    );
    const byId = resultsById(r.MetricDataResults);
    const x = timeAxis(range.start, range.end, 60);
    const s = (id: string, fill: "zero" | "gap", scale = 1) => alignSeries(x, byId.get(id), fill, scale);
    const inv = s("inv", "zero");
    const e4 = s("e4xx", "zero");
    const e5 = s("e5xx", "zero");
    const mp50 = s("model_p50", "gap");
    const mp99 = s("model_p99", "gap");
    const cold = s("cold", "zero");
    charts.inv.setData(x, [inv, e4, e5]);
    charts.model.setData(x, [mp50, mp99]);
    charts.over.setData(x, [s("over_p50", "gap"), s("over_p99", "gap")]);
    charts.setup.setData(x, [s("setup_avg", "gap")]);
    charts.conc.setData(x, [s("conc", "gap", maxConcurrency), x.map(() => maxConcurrency)]);
    const workers = (await fetchWorkers(window.location.origin))?.get(name);
    if (workers) {
      workerHistory.add(Date.now() / 1000, workers);
      workersChart.setData(workerHistory.x, [workerHistory.starting, workerHistory.idle, workerHistory.busy]);
    }
    $(el, "#tiles").innerHTML = `
      <div class="tile"><span>Workers idle / busy / starting</span><strong data-testid="tile-workers">${workers ? `${workers.idle} / ${workers.busy} / ${workers.starting}` : "0 / 0 / 0"}</strong></div>
      <div class="tile"><span>Invocations</span><strong data-testid="tile-invocations">${formatCount(sum(inv))}</strong></div>
      <div class="tile"><span>Errors 4xx / 5xx</span><strong>${formatCount(sum(e4))} / ${formatCount(sum(e5))}</strong></div>
      <div class="tile"><span>ModelLatency p99 (last min)</span><strong>${formatMicros(lastNonNull(mp99))}</strong></div>
      <div class="tile"><span>Cold starts</span><strong>${formatCount(sum(cold))}</strong></div>`;
    $(el, "#metrics-error").innerHTML = "";
  }

  // The cost report: every billing series of this endpoint (any memory size it ran with), summed
  // since the endpoint was created (whole minutes), priced as `thaw cost --start S --end E
  // --endpoint NAME` prices it: the same code path, the same prices (src/cli/prices.json).
  let compareWith = "";
  async function cost() {
    if (!createdMs) return;
    const range = wholeRange(createdMs, Date.now());
    const { billed, provisioned } = await fetchBilling(ctx.clients.cloudwatch, name, range);
    const report = computeCost(billed, { ...DEFAULT_PRICES, instanceType: compareWith }, range.start, range.end, provisioned);
    const c = report.total;
    const gb = (v: number) => v.toFixed(3);
    $(el, "#cost").innerHTML = `<dl class="kv" data-testid="cost-report" data-start="${range.start / 1000}" data-end="${range.end / 1000}"
        data-requests="${c.requests}" data-serverless-usd="${c.serverlessUsd}" data-instance-usd="${c.instanceUsd}" data-instance="${esc(c.instanceType)}">
      <dt>Serverless</dt><dd><strong data-testid="cost-usd">${formatUsd(c.serverlessUsd)}</strong> · ${formatCount(c.requests)} requests,
        ${formatUsd(c.monthlyUsd)}/month at this rate</dd>
      <dt>On demand</dt><dd>${gb(c.gbSeconds - c.provisionedGbSeconds)} GB-s at $${DEFAULT_PRICES.perGbSecond}/GB-s</dd>
      <dt>Provisioned</dt><dd data-testid="cost-provisioned">${c.provisionedSeconds ? `${formatUsd(c.provisionedUsd)} · ${gb(c.provisionedAllocatedGbSeconds)} GB-s held at $${DEFAULT_PRICES.perProvisionedGbSecond}/GB-s; ${gb(c.provisionedGbSeconds)} GB-s invoked at $${DEFAULT_PRICES.perProvisionedInferenceGbSecond}/GB-s` : "none"}</dd>
      <dt><label for="cost-compare">Always-on</label></dt><dd><select id="cost-compare" data-testid="cost-compare">
        <option value="">similar memory (${esc(report.rows.length === 1 ? report.rows[0].instanceType : "–")})</option>
        ${INSTANCE_PRICES.map((i) => `<option value="${esc(i.type)}" ${i.type === compareWith ? "selected" : ""}>${esc(i.type)} · ${formatMemory(i.memoryMb)} · $${i.usdPerHour}/h</option>`).join("")}
        </select>
        <div><span data-testid="cost-instance-usd">${formatUsd(c.instanceUsd)}</span> for the same ${(report.windowSeconds / 3600).toFixed(2)} h ·
        ${c.savingsUsd >= 0 ? `saves ${formatUsd(c.savingsUsd)}` : `costs ${formatUsd(-c.savingsUsd)} more`}
        · break-even ${c.breakEvenPerHour === null ? "–" : `${formatCount(Math.round(c.breakEvenPerHour))} requests/h`}</div></dd>
    </dl><p class="muted small">thaw/Billing since creation (${new Date(range.start).toISOString().slice(0, 16)}Z →), priced as
      <code>thaw cost --endpoint ${esc(name)} --start ${range.start / 1000} --end ${range.end / 1000}</code>: us-east-1 prices from
      src/cli/prices.json (provisioned concurrency rates approximate).</p>`;
    ($(el, "#cost-compare") as HTMLSelectElement).addEventListener("change", (ev) => {
      compareWith = (ev.target as HTMLSelectElement).value;
      void cost().catch((err) => fail("#cost", err, "cost-error"));
    });
  }

  async function refresh() {
    try {
      await describe();
      if (tick++ % 6 === 0) {
        try {
          await cost();
        } catch (err) {
          if (fail("#cost", err, "cost-error")) return;
        }
      }
      try {
        await metrics();
      } catch (err) {
        if (fail("#metrics-error", err, "metrics-error")) return;
      }
    } catch (err) {
      if (classifyError(err).kind === "not-found") {
        $(el, "#ep-error").innerHTML = errorBox("This endpoint does not exist", `No endpoint named ${name} (deleted?).`, "not-found");
        $(el, "#ep-status").textContent = "Gone";
      } else if (fail("#ep-error", err)) return;
    } finally {
      if (!disposed) timer = window.setTimeout(refresh, REFRESH_MS.endpoint);
    }
  }

  // The test-invoke panel.
  const invokeForm = $(el, "#invoke-form") as HTMLFormElement;
  invokeForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(invokeForm);
    const out = $(el, "#invoke-result");
    out.innerHTML = `<p class="muted">Invoking…</p>`;
    const accept = String(f.get("accept") ?? "").trim();
    // Cold or warm, as the server reports it (x-thaw-cold-start, read from the raw response).
    let start = "";
    const command = new InvokeEndpointCommand({
      EndpointName: name,
      ContentType: String(f.get("contentType")),
      Accept: accept || undefined,
      Body: new TextEncoder().encode(String(f.get("body") ?? "")),
    });
    command.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        start = startKind((out.response as { headers?: Record<string, string> }).headers);
        return out;
      },
      { step: "deserialize", name: "thawColdStartHeader" },
    );
    const t0 = performance.now();
    try {
      const r = await ctx.clients.runtime.send(command);
      const elapsed = performance.now() - t0;
      const text = new TextDecoder().decode(r.Body);
      out.innerHTML = `<div class="ok-box" data-testid="invoke-ok">
        <p><strong>200</strong> · ${esc(r.ContentType ?? "")} · <span data-testid="invoke-time">${elapsed.toFixed(1)} ms</span> round trip
        ${start ? `· <span data-testid="invoke-start">${start}</span>` : ""} · variant ${esc(r.InvokedProductionVariant ?? "–")}</p>
        <pre data-testid="invoke-response">${esc(text)}</pre></div>`;
      void cost().catch((err) => fail("#cost", err, "cost-error")); // the invocation is billed now
    } catch (err) {
      const elapsed = performance.now() - t0;
      const c = classifyError(err);
      if (c.kind === "auth") return ctx.authFailed(c.message);
      out.innerHTML = errorBox(`${c.title} (${elapsed.toFixed(1)} ms)`, c.message, "invoke-error");
    }
  });

  // The log tail: FilterLogEvents from the newest line seen, every REFRESH_MS.logs.
  const logWindow = new LogWindow(500);
  let paused = false;
  let since = Date.now() - 15 * 60 * 1000;
  const toggle = $(el, "#logs-toggle");
  toggle.addEventListener("click", () => {
    paused = !paused;
    toggle.textContent = paused ? "Resume" : "Pause";
    toggle.setAttribute("aria-pressed", String(paused));
    if (!paused) void tail();
  });
  async function tail() {
    window.clearTimeout(logTimer);
    if (disposed || paused) return;
    const state = $(el, "#logs-state");
    try {
      let token: string | undefined;
      let added = 0;
      do {
        const r = await ctx.clients.logs.send(
          new FilterLogEventsCommand({ logGroupName: `/aws/sagemaker/Endpoints/${name}`, startTime: since, nextToken: token, limit: 500 }),
        );
        added += logWindow.add(
          (r.events ?? []).map((e) => ({
            eventId: e.eventId ?? `${e.logStreamName}-${e.timestamp}-${e.message}`,
            timestamp: e.timestamp ?? 0,
            message: e.message ?? "",
            stream: e.logStreamName ?? "",
          })),
        );
        token = r.nextToken;
      } while (token && !disposed);
      since = logWindow.newestTimestamp(since);
      if (added) {
        const box = $(el, "#logs");
        const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
        box.innerHTML = logWindow.lines
          .map((l) => `<div class="log-line"><time>${formatClock(l.timestamp)}</time> <span class="stream">${esc(l.stream.slice(-12))}</span> ${esc(l.message)}</div>`)
          .join("");
        if (atBottom) box.scrollTop = box.scrollHeight;
      }
      state.textContent = logWindow.lines.length ? `${logWindow.lines.length} lines · live` : "No log events yet (they appear when a worker starts or logs).";
    } catch (err) {
      const c = classifyError(err);
      if (c.kind === "auth") return ctx.authFailed(c.message);
      if (c.kind === "not-found") state.textContent = "No log group yet: it appears with the endpoint's first worker.";
      else if (c.kind === "unsupported") state.textContent = "This thaw does not serve the CloudWatch Logs API: no log tail.";
      else state.textContent = `${c.title}: ${c.message}`;
    }
    if (!disposed && !paused) logTimer = window.setTimeout(tail, REFRESH_MS.logs);
  }

  // Update and delete, each behind a dialog.
  const updateDialog = $(el, "#update-dialog") as HTMLDialogElement;
  $(el, "#open-update").addEventListener("click", async () => {
    const select = $(el, "#update-config") as HTMLSelectElement;
    select.innerHTML = "<option>Loading…</option>";
    $(el, "#update-error").innerHTML = "";
    updateDialog.showModal();
    try {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const r = await ctx.clients.sagemaker.send(new ListEndpointConfigsCommand({ MaxResults: 100, NextToken: token, SortBy: "CreationTime", SortOrder: "Descending" }));
        names.push(...(r.EndpointConfigs ?? []).map((c) => c.EndpointConfigName!));
        token = r.NextToken;
      } while (token);
      const others = names.filter((n) => n !== currentConfig);
      select.innerHTML = others.length
        ? others.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join("")
        : `<option value="">No other endpoint configuration (deploy one first)</option>`;
    } catch (err) {
      fail("#update-error", err);
    }
  });
  updateDialog.addEventListener("close", async () => {
    const config = ($(el, "#update-config") as HTMLSelectElement).value;
    if (updateDialog.returnValue !== "ok" || !config) return;
    try {
      await ctx.clients.sagemaker.send(new UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: config }));
      void refresh();
    } catch (err) {
      fail("#ep-error", err);
    }
  });
  const deleteDialog = $(el, "#delete-dialog") as HTMLDialogElement;
  $(el, "#open-delete").addEventListener("click", () => {
    $(el, "#delete-error").innerHTML = "";
    deleteDialog.showModal();
  });
  deleteDialog.addEventListener("close", async () => {
    if (deleteDialog.returnValue !== "ok") return;
    try {
      await ctx.clients.sagemaker.send(new DeleteEndpointCommand({ EndpointName: name }));
      ctx.navigate({ page: "endpoints" });
    } catch (err) {
      fail("#ep-error", err);
    }
  });

  void refresh();
  void tail();
  return {
    dispose() {
      disposed = true;
      window.clearTimeout(timer);
      window.clearTimeout(logTimer);
      window.removeEventListener("resize", onResize);
      Object.values(charts).forEach((c) => c.destroy());
    },
  };
}
