// The console in a real browser (playwright-core driving Debian's /usr/bin/chromium, headless)
// against a running thaw: tests/e2e/test_console.py starts thaw, prepares what the form needs and
// runs this script with a JSON request on stdin; it prints one JSON result on stdout.
//
// Request: { url, accessKeyId, secretAccessKey, region, endpoint, modelFile, modelUri, badUri,
//            upload, logs, otherConfig, screenshots, chromium }
// Every step waits on what the page shows (never a fixed sleep) and fails with the step's name.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const req = JSON.parse(await new Promise((resolve) => {
  let s = "";
  process.stdin.on("data", (d) => (s += d));
  process.stdin.on("end", () => resolve(s));
}));
mkdirSync(req.screenshots, { recursive: true });
const result = { steps: [], screenshots: [] };
let step = "launch";
const browser = await chromium.launch({
  executablePath: req.chromium || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
const consoleErrors = [];
page.on("pageerror", (e) => consoleErrors.push(String(e)));
// A Content-Security-Policy refusal is only a console message: count it as a page error.
page.on("console", (m) => {
  if (m.type() === "error" && /Content Security Policy/i.test(m.text())) consoleErrors.push(m.text());
});

async function shot(name) {
  const path = join(req.screenshots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  result.screenshots.push(path);
}
async function run(name, fn) {
  step = name;
  await fn();
  result.steps.push(name);
}

try {
  await run("sign-in page", async () => {
    await page.goto(`${req.url}/console/`);
    await page.getByRole("heading", { name: "Sign in to thaw" }).waitFor();
    // Keyboard: the first field has focus and Tab walks the form.
    if (!(await page.evaluate(() => document.activeElement?.getAttribute("name") === "accessKeyId")))
      throw new Error("the access key field is not focused");
    await shot("01-signin");
  });

  await run("wrong keys are refused", async () => {
    await page.getByLabel("Access key id").fill(req.accessKeyId);
    await page.getByLabel("Secret access key").fill("not-the-secret-at-all-0000");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "refused these keys" }).waitFor({ timeout: 15000 });
    await shot("02-signin-wrong-keys");
  });

  await run("sign in", async () => {
    await page.getByLabel("Secret access key").fill(req.secretAccessKey);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Endpoints" }).waitFor({ timeout: 15000 });
    await page.getByTestId("empty-list").waitFor({ timeout: 15000 });
    result.stored = await page.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length }));
    await shot("03-endpoints-empty");
  });

  await run("a failed deploy shows its FailureReason", async () => {
    await page.getByRole("link", { name: "Deploy your first model" }).click();
    await page.getByLabel("Endpoint name").fill(`${req.endpoint}-bad`);
    await page.getByLabel("or an s3:// URI already in the store").fill(req.badUri);
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.getByTestId("deploy-failure").waitFor({ timeout: 120000 });
    result.failureReason = await page.getByTestId("deploy-failure").innerText();
    await shot("04-deploy-failed");
  });

  await run("deploy through the form", async () => {
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Endpoints" }).click();
    await page.locator(`tr[data-endpoint="${req.endpoint}-bad"]`).waitFor({ timeout: 15000 });
    await nav.getByRole("link", { name: "Deploy" }).click();
    await page.getByLabel("Endpoint name").fill(req.endpoint);
    // The image choice shows only the fields it needs.
    await page.getByLabel("Entry point").waitFor({ state: "hidden" });
    await page.getByLabel("scikit-learn 1.2-1").check();
    await page.getByLabel("Entry point").waitFor();
    await page.getByLabel("XGBoost 1.7-1").check();
    await page.getByLabel("Entry point").waitFor({ state: "hidden" });
    if (req.upload) await page.getByLabel("model.tar.gz to upload").setInputFiles(req.modelFile);
    else await page.getByLabel("or an s3:// URI already in the store").fill(req.modelUri);
    await page.getByLabel("MaxConcurrency").fill("2");
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.getByTestId("deploy-done").waitFor({ timeout: 120000 });
    await shot("05-deploy-inservice");
  });

  await run("endpoint page and test invoke", async () => {
    await page.getByRole("link", { name: `Open ${req.endpoint}` }).click();
    await page.getByTestId("status").filter({ hasText: "InService" }).waitFor({ timeout: 30000 });
    result.responses = [];
    result.starts = [];
    for (let i = 0; i < 3; i++) {
      await page.getByRole("button", { name: "Invoke", exact: true }).click();
      await page.getByTestId("invoke-ok").waitFor({ timeout: 60000 });
      result.responses.push(await page.getByTestId("invoke-response").innerText());
      result.invokeTime = await page.getByTestId("invoke-time").innerText();
      result.starts.push(await page.getByTestId("invoke-start").innerText());
    }
  });

  await run("charts update with real data points", async () => {
    await page.waitForFunction(() => {
      const inv = document.querySelector('[data-testid="chart-invocations"]');
      const lat = document.querySelector('[data-testid="chart-latency"]');
      return Number(inv?.dataset.points) > 0 && Number(lat?.dataset.points) > 0;
    }, null, { timeout: 60000, polling: 500 });
    result.tileInvocations = await page.getByTestId("tile-invocations").innerText();
    await page.getByTestId("cost-usd").waitFor({ timeout: 30000 });
    result.cost = await page.getByTestId("cost-usd").innerText();
  });

  await run("log tail", async () => {
    if (req.logs) {
      await page.locator("#logs .log-line").first().waitFor({ timeout: 60000 });
      result.logLine = await page.locator("#logs .log-line").first().innerText();
    } else {
      await page.locator("#logs-state").filter({ hasText: "does not serve the CloudWatch Logs API" }).waitFor({ timeout: 30000 });
      result.logLine = null;
    }
    await shot("06-endpoint");
  });

  await run("cost panel", async () => {
    // Recomputed after each test invoke: wait until it counts the three.
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="cost-report"]')?.dataset.requests) >= 3,
      null, { timeout: 60000, polling: 500 });
    result.costReport = await page.getByTestId("cost-report").evaluate((e) => ({ ...e.dataset }));
    result.cost = await page.getByTestId("cost-usd").innerText();
    result.costInstanceUsd = await page.getByTestId("cost-instance-usd").innerText();
    // The same instance comparison as thaw cost --compare.
    await page.getByTestId("cost-compare").selectOption("ml.m5.large");
    await page.locator('[data-testid="cost-report"][data-instance="ml.m5.large"]').waitFor({ timeout: 30000 });
    result.costCompared = await page.getByTestId("cost-report").evaluate((e) => ({ ...e.dataset }));
  });

  await run("cost column of the endpoints list", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Endpoints" }).click();
    const cell = page.locator(`tr[data-endpoint="${req.endpoint}"] [data-testid="list-cost"]`);
    await cell.filter({ hasText: result.cost }).waitFor({ timeout: 30000 });
    result.listCost = await cell.innerText();
  });

  await run("keep-alive page", async () => {
    // Keyboard: the main navigation's link, then Enter.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Keep-alive" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Keep-alive", level: 1 }).waitFor({ timeout: 15000 });
    const card = page.locator(`[data-testid="ka-card"][data-endpoint="${req.endpoint}"]`);
    await card.locator('[data-testid="ka-histogram"] rect.bar').first().waitFor({ timeout: 30000 });
    result.keepAlive = {
      policy: await card.getByTestId("ka-policy").innerText(),
      histogramCount: Number(await card.getByTestId("ka-histogram").getAttribute("data-count")),
      bars: await card.locator("rect.bar").count(),
      window: await card.getByTestId("ka-window").innerText(),
      retire: await card.getByTestId("ka-retire").innerText(),
      cold: await card.getByTestId("ka-cold").innerText(),
    };
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="pareto"] img');
      return img && img.complete && img.naturalWidth > 0;
    }, null, { timeout: 15000, polling: 200 });
    result.pareto = {
      src: await page.getByTestId("pareto").locator("img").getAttribute("src"),
      caption: await page.getByTestId("pareto-command").innerText(),
    };
    await shot("12-keepalive");
    await card.getByRole("link", { name: req.endpoint, exact: true }).click();
    await page.getByTestId("status").filter({ hasText: "InService" }).waitFor({ timeout: 30000 });
  });

  await run("update to another config", async () => {
    await page.getByRole("button", { name: "Update…" }).click();
    await page.locator("#update-config").selectOption(req.otherConfig);
    await shot("07-update-dialog");
    await page.locator("#update-confirm").click();
    await page.getByTestId("config").filter({ hasText: req.otherConfig }).waitFor({ timeout: 60000 });
    await page.getByTestId("status").filter({ hasText: "InService" }).waitFor({ timeout: 60000 });
  });

  await run("delete with confirmation", async () => {
    await page.getByRole("button", { name: "Delete…" }).click();
    await page.getByRole("heading", { name: `Delete ${req.endpoint}?` }).waitFor();
    await shot("08-delete-dialog");
    await page.locator("#delete-confirm").click();
    await page.getByRole("heading", { name: "Endpoints" }).waitFor({ timeout: 15000 });
    await page.locator(`tr[data-endpoint="${req.endpoint}"]`).waitFor({ state: "detached", timeout: 60000 });
    await page.locator(`tr[data-endpoint="${req.endpoint}-bad"] .reason`).waitFor({ timeout: 15000 });
    await shot("09-endpoints-after-delete");
  });

  await run("narrow screen", async () => {
    await page.setViewportSize({ width: 400, height: 800 });
    await page.getByTestId("endpoints-table").waitFor();
    await shot("10-endpoints-narrow");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Keep-alive" }).click();
    // The deleted endpoint has no keep-alive state; the failed one never served: empty state.
    await page.getByTestId("ka-empty").waitFor({ timeout: 30000 });
    await shot("13-keepalive-narrow");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Endpoints" }).click();
    await page.getByTestId("endpoints-table").waitFor();
  });

  await run("server unreachable", async () => {
    // The browser's requests to the API fail as if thaw were down (static files stay cached).
    const api = (url) => url.pathname === "/";
    await page.route(api, (route) => route.abort("connectionrefused"));
    await page.getByTestId("unreachable").waitFor({ timeout: 30000 });
    await shot("11-unreachable");
    await page.unroute(api);
  });

  await run("sign out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to thaw" }).waitFor();
    result.storedAfterSignOut = await page.evaluate(() => sessionStorage.length);
  });
  result.ok = true;
} catch (err) {
  result.ok = false;
  result.failedStep = step;
  result.error = String(err?.stack || err);
  try {
    await shot(`failed-${step.replace(/\W+/g, "-")}`);
  } catch {}
}
result.pageErrors = consoleErrors;
await browser.close();
process.stdout.write(JSON.stringify(result) + "\n");
