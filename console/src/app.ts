// What every page gets: the signed clients, the session, navigation, and the shared handling
// of a refused key (back to the sign-in page with the reason).

import type { Clients } from "./aws";
import type { Route } from "./router";
import type { Session } from "./session";

export interface AppContext {
  clients: Clients;
  session: Session;
  navigate(route: Route): void;
  // Called by a page when a call was refused for the keys: signs out with that message.
  authFailed(message: string): void;
}

export interface Page {
  dispose(): void;
}

// Refresh periods (ms): the endpoint page's charts and the log tail poll this often.
export const REFRESH_MS = { endpoint: 5000, list: 10000, logs: 3000, deploy: 1000 };
