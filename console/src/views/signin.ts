import { ListEndpointsCommand } from "@aws-sdk/client-sagemaker";
import { makeClients } from "../aws";
import { $, errorBox, esc } from "../dom";
import { classifyError } from "../errors";
import { validateSignIn, type Session } from "../session";

export function renderSignIn(
  el: HTMLElement,
  origin: string,
  notice: string | null,
  onSignedIn: (s: Session) => void,
): void {
  el.innerHTML = `
  <section class="signin card" aria-labelledby="signin-title">
    <h1 id="signin-title">Sign in to thaw</h1>
    <p class="muted">Use an access key pair from <code>thaw-data/credentials</code>. The keys stay in this
    tab's session storage and sign every API call (SigV4) to <code>${esc(origin)}</code>.</p>
    ${notice ? errorBox("Signed out", notice, "signin-notice") : ""}
    <form id="signin-form" novalidate>
      <label>Access key id <input name="accessKeyId" autocomplete="username" required spellcheck="false" /></label>
      <label>Secret access key <input name="secretAccessKey" type="password" autocomplete="current-password" required /></label>
      <label>Region <input name="region" value="us-east-1" required spellcheck="false" /></label>
      <div id="signin-error" aria-live="polite"></div>
      <button type="submit" class="primary">Sign in</button>
    </form>
  </section>`;
  const form = $(el, "#signin-form") as HTMLFormElement;
  const out = $(el, "#signin-error");
  (form.elements.namedItem("accessKeyId") as HTMLInputElement).focus();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const s: Session = {
      accessKeyId: String(data.get("accessKeyId") ?? "").trim(),
      secretAccessKey: String(data.get("secretAccessKey") ?? "").trim(),
      region: String(data.get("region") ?? "").trim(),
    };
    const invalid = validateSignIn(s);
    if (invalid) {
      out.innerHTML = errorBox("Check the form", invalid);
      return;
    }
    const button = form.querySelector("button")!;
    button.disabled = true;
    out.innerHTML = `<p class="muted">Checking the keys…</p>`;
    try {
      await makeClients(s, origin).sagemaker.send(new ListEndpointsCommand({ MaxResults: 1 }));
      onSignedIn(s);
    } catch (err) {
      const c = classifyError(err);
      out.innerHTML = errorBox(c.title, c.message);
    } finally {
      button.disabled = false;
    }
  });
}
