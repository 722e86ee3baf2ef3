import "./style.css";
import { makeClients } from "./aws";
import type { AppContext, Page } from "./app";
import { esc } from "./dom";
import { parseRoute, routeHref, type Route } from "./router";
import { clearSession, loadSession, saveSession, type Session } from "./session";
import { renderDeploy } from "./views/deploy";
import { renderEndpoint } from "./views/endpoint";
import { renderEndpoints } from "./views/endpoints";
import { renderKeepAlive } from "./views/keepalive";
import { renderSignIn } from "./views/signin";

const origin = window.location.origin;
const root = document.getElementById("app")!;
let page: Page | null = null;
let notice: string | null = null;

function shell(s: Session, route: Route): HTMLElement {
  const nav = (r: Route, label: string) =>
    `<a href="${routeHref(r)}" ${route.page === r.page || (r.page === "endpoints" && route.page === "endpoint") ? 'aria-current="page"' : ""}>${label}</a>`;
  root.innerHTML = `
  <header class="top">
    <a class="brand" href="${routeHref({ page: "endpoints" })}">thaw <span>console</span></a>
    <nav aria-label="Main">${nav({ page: "endpoints" }, "Endpoints")}${nav({ page: "deploy" }, "Deploy")}${nav({ page: "keepalive" }, "Keep-alive")}</nav>
    <div class="who"><span class="muted small" title="access key id">${esc(s.accessKeyId)} · ${esc(s.region)}</span>
    <button id="signout">Sign out</button></div>
  </header>
  <main id="main" tabindex="-1"></main>`;
  document.getElementById("signout")!.addEventListener("click", () => {
    clearSession(sessionStorage);
    window.location.hash = "#/signin";
  });
  return document.getElementById("main")!;
}

function render() {
  page?.dispose();
  page = null;
  const route = parseRoute(window.location.hash);
  const session = loadSession(sessionStorage);
  if (!session || route.page === "signin") {
    root.innerHTML = `<main id="main"></main>`;
    renderSignIn(document.getElementById("main")!, origin, notice, (s) => {
      notice = null;
      saveSession(sessionStorage, s);
      window.location.hash = routeHref({ page: "endpoints" });
      if (route.page !== "signin") render();
    });
    document.title = "Sign in · thaw";
    return;
  }
  const main = shell(session, route);
  const ctx: AppContext = {
    clients: makeClients(session, origin),
    session,
    navigate: (r) => (window.location.hash = routeHref(r)),
    authFailed: (message) => {
      notice = message;
      clearSession(sessionStorage);
      window.location.hash = "#/signin";
    },
  };
  switch (route.page) {
    case "endpoint":
      document.title = `${route.name} · thaw`;
      page = renderEndpoint(main, ctx, route.name);
      break;
    case "deploy":
      document.title = "Deploy · thaw";
      page = renderDeploy(main, ctx);
      break;
    case "keepalive":
      document.title = "Keep-alive · thaw";
      page = renderKeepAlive(main, ctx);
      break;
    default:
      document.title = "Endpoints · thaw";
      page = renderEndpoints(main, ctx);
  }
}

window.addEventListener("hashchange", render);
render();
