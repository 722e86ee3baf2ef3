// Deploy: upload model.tar.gz (S3 PutObject into thaw's embedded store) or name an s3:// URI
// already there, choose the image, memory and concurrency, then CreateModel,
// CreateEndpointConfig, CreateEndpoint and follow DescribeEndpoint to InService or Failed.

import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  ListEndpointsCommand,
} from "@aws-sdk/client-sagemaker";
import { REFRESH_MS, type AppContext, type Page } from "../app";
import { $, errorBox, esc } from "../dom";
import { classifyError } from "../errors";
import { formatBytes } from "../format";
import { routeHref } from "../router";
import {
  DEPLOY_STEPS,
  MEMORY_CHOICES,
  STEP_LABELS,
  accountOf,
  advance,
  deployRequests,
  followStatus,
  initialProgress,
  nameStamp,
  validateDeploy,
  type DeployForm,
  type ImageKind,
  type Progress,
} from "../state";

export function renderDeploy(el: HTMLElement, ctx: AppContext): Page {
  el.innerHTML = `
  <section aria-labelledby="deploy-title">
    <p class="crumbs"><a href="${routeHref({ page: "endpoints" })}">Endpoints</a> /</p>
    <h1 id="deploy-title">Deploy a model</h1>
    <form id="deploy-form" class="card" novalidate>
      <label>Endpoint name <input name="name" required spellcheck="false" placeholder="my-model" /></label>
      <fieldset><legend>Model artifact</legend>
        <label>model.tar.gz to upload <input type="file" name="file" accept=".gz,.tgz,application/gzip" /></label>
        <div class="row">
          <label>into bucket <input name="bucket" value="thaw-console" spellcheck="false" /></label>
          <span class="muted small">of thaw's embedded S3 store (PutObject)</span>
        </div>
        <label>or an s3:// URI already in the store <input name="uri" placeholder="s3://bucket/key/model.tar.gz" spellcheck="false" /></label>
      </fieldset>
      <fieldset><legend>Image</legend>
        <label class="inline"><input type="radio" name="image" value="xgboost" checked /> XGBoost 1.7-1</label>
        <label class="inline"><input type="radio" name="image" value="sklearn" /> scikit-learn 1.2-1</label>
        <label class="inline"><input type="radio" name="image" value="custom" /> Custom program</label>
        <label data-for="sklearn" hidden>Entry point (under code/ in the archive) <input name="entryPoint" value="inference.py" spellcheck="false" /></label>
        <label data-for="custom" hidden>Program on the thaw host <input name="customProgram" placeholder="file:///path/to/serve" spellcheck="false" /></label>
      </fieldset>
      <div class="row">
        <label>Memory <select name="memoryMb">${MEMORY_CHOICES.map((m) => `<option value="${m}" ${m === 2048 ? "selected" : ""}>${m} MB</option>`).join("")}</select></label>
        <label>MaxConcurrency <input name="maxConcurrency" type="number" min="1" max="200" value="5" /></label>
        <label>Provisioned concurrency <input name="provisioned" type="number" min="0" max="200" value="0" /></label>
      </div>
      <div id="deploy-error" aria-live="polite"></div>
      <button type="submit" class="primary" id="deploy-submit">Deploy</button>
    </form>
    <div id="progress" class="card" hidden aria-live="polite"></div>
  </section>`;
  const form = $(el, "#deploy-form") as HTMLFormElement;
  let disposed = false;
  let timer: number | undefined;

  const syncImage = () => {
    const kind = (form.elements.namedItem("image") as RadioNodeList).value;
    form.querySelectorAll<HTMLElement>("[data-for]").forEach((n) => (n.hidden = n.dataset.for !== kind));
  };
  form.addEventListener("change", syncImage);
  syncImage();

  function show(p: Progress, detail: string, failure?: string, done?: string) {
    const box = $(el, "#progress");
    box.hidden = false;
    box.innerHTML = `<h2>Progress</h2><ol class="steps" data-testid="deploy-steps">${DEPLOY_STEPS.map(
      (s) => `<li class="step ${p[s]}" data-step="${s}"><span class="dot" aria-hidden="true"></span>${esc(STEP_LABELS[s])} <span class="muted small">${p[s]}</span></li>`,
    ).join("")}</ol>
      <p class="muted" data-testid="deploy-detail">${esc(detail)}</p>
      ${failure ? errorBox("Deploy failed", failure, "deploy-failure") : ""}
      ${done ? `<p data-testid="deploy-done"><a class="button primary" href="${routeHref({ page: "endpoint", name: done })}">Open ${esc(done)}</a></p>` : ""}`;
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const file = data.get("file") as File | null;
    const hasFile = !!file && file.size > 0;
    const bucket = String(data.get("bucket") ?? "").trim();
    const name = String(data.get("name") ?? "").trim();
    const key = `${name}/${nameStamp(Date.now())}/model.tar.gz`;
    const f: DeployForm = {
      name,
      image: String(data.get("image")) as ImageKind,
      entryPoint: String(data.get("entryPoint") ?? ""),
      customProgram: String(data.get("customProgram") ?? ""),
      memoryMb: Number(data.get("memoryMb")),
      maxConcurrency: Number(data.get("maxConcurrency")),
      provisioned: Number(data.get("provisioned") || 0),
      modelDataUrl: hasFile ? `s3://${bucket}/${key}` : String(data.get("uri") ?? "").trim(),
    };
    const invalid = (hasFile && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) ? "The bucket name is 3-63 lower-case letters, digits, dots and hyphens." : null) ?? validateDeploy(f);
    const out = $(el, "#deploy-error");
    if (invalid) {
      out.innerHTML = errorBox("Check the form", invalid);
      return;
    }
    out.innerHTML = "";
    const submit = $(el, "#deploy-submit") as HTMLButtonElement;
    submit.disabled = true;
    let p = initialProgress(hasFile);
    let step: (typeof DEPLOY_STEPS)[number] = hasFile ? "upload" : "model";
    p = advance(p, step, "running");
    const sm = ctx.clients.sagemaker;
    try {
      if (hasFile) {
        show(p, `Uploading ${file!.name} (${formatBytes(file!.size)}) to s3://${bucket}/${key}…`);
        const body = new Uint8Array(await file!.arrayBuffer());
        const put = () => ctx.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/gzip" }));
        try {
          await put();
        } catch (err) {
          if ((err as { name?: string }).name !== "NoSuchBucket") throw err;
          await ctx.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
          await put();
        }
        p = advance(p, "upload", "done");
      }
      // The account id the server answers as, for the execution role's ARN.
      const list = await sm.send(new ListEndpointsCommand({ MaxResults: 1 }));
      const reqs = deployRequests(f, ctx.session.region, accountOf(list.Endpoints?.[0]?.EndpointArn), nameStamp(Date.now()));
      step = "model";
      show(p, `CreateModel ${reqs.createModel.ModelName}`);
      await sm.send(new CreateModelCommand(reqs.createModel));
      p = advance(p, "model", "done");
      step = "config";
      show(p, `CreateEndpointConfig ${reqs.createConfig.EndpointConfigName}`);
      await sm.send(new CreateEndpointConfigCommand(reqs.createConfig));
      p = advance(p, "config", "done");
      step = "endpoint";
      show(p, `CreateEndpoint ${f.name}`);
      await sm.send(new CreateEndpointCommand(reqs.createEndpoint));
      p = advance(p, "endpoint", "done");
      step = "inservice";
      const t0 = Date.now();
      const follow = async () => {
        if (disposed) return;
        try {
          const d = await sm.send(new DescribeEndpointCommand({ EndpointName: f.name }));
          const state = followStatus(d.EndpointStatus);
          const secs = ((Date.now() - t0) / 1000).toFixed(0);
          if (state === "done") {
            show(advance(p, "inservice", "done"), `InService after ${secs} s.`, undefined, f.name);
            submit.disabled = false;
          } else if (state === "failed") {
            show(advance(p, "inservice", "failed"), `${d.EndpointStatus} after ${secs} s.`, d.FailureReason ?? "(no FailureReason)");
            submit.disabled = false;
          } else {
            show(p, `${d.EndpointStatus} for ${secs} s…`);
            timer = window.setTimeout(follow, REFRESH_MS.deploy);
          }
        } catch (err) {
          const c = classifyError(err);
          if (c.kind === "auth") return ctx.authFailed(c.message);
          show(p, `${c.title}: ${c.message} — retrying`);
          timer = window.setTimeout(follow, REFRESH_MS.deploy * 3);
        }
      };
      await follow();
    } catch (err) {
      const c = classifyError(err);
      if (c.kind === "auth") return ctx.authFailed(c.message);
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const hint = step === "upload" && (c.kind === "unsupported" || status === 404 || status === 405) ? " This thaw has no S3 PutObject: put the archive under <data-dir>/s3/ and give its s3:// URI." : "";
      show(advance(p, step, "failed"), `${STEP_LABELS[step]} failed.`, `${c.title}: ${c.message}${hint}`);
      submit.disabled = false;
    }
  });
  return {
    dispose() {
      disposed = true;
      window.clearTimeout(timer);
    },
  };
}
