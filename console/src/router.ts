// Hash routes: the console works from any path the server serves it at, and a reload keeps
// the page. #/endpoints, #/endpoints/NAME, #/deploy, #/keep-alive, #/signin.

export type Route =
  | { page: "endpoints" }
  | { page: "endpoint"; name: string }
  | { page: "deploy" }
  | { page: "keepalive" }
  | { page: "signin" };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/^\/+/, "");
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts[0] === "endpoints" && parts.length >= 2) return { page: "endpoint", name: parts[1] };
  if (parts[0] === "deploy") return { page: "deploy" };
  if (parts[0] === "keep-alive") return { page: "keepalive" };
  if (parts[0] === "signin") return { page: "signin" };
  return { page: "endpoints" };
}

export function routeHref(r: Route): string {
  switch (r.page) {
    case "endpoint":
      return `#/endpoints/${encodeURIComponent(r.name)}`;
    case "keepalive":
      return "#/keep-alive";
    default:
      return `#/${r.page}`;
  }
}
