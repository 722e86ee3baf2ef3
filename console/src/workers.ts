// Workers by state come from thaw's Prometheus text (GET /metrics, public like /ping): the
// gauge thaw_workers{endpoint,variant,state}. Not a CloudWatch metric, so the endpoint page keeps
// its own short history of these samples while it is open.

export interface WorkerCounts {
  starting: number;
  idle: number;
  busy: number;
}

const LINE = /^thaw_workers\{([^}]*)\}\s+([0-9.eE+-]+)\s*$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

export function parseWorkers(text: string): Map<string, WorkerCounts> {
  const out = new Map<string, WorkerCounts>();
  for (const line of text.split("\n")) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of m[1].matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, "$1");
    const state = labels.state as keyof WorkerCounts;
    if (!labels.endpoint || !["starting", "idle", "busy"].includes(state)) continue;
    const c = out.get(labels.endpoint) ?? { starting: 0, idle: 0, busy: 0 };
    c[state] += Number(m[2]);
    out.set(labels.endpoint, c);
  }
  return out;
}

export async function fetchWorkers(origin: string): Promise<Map<string, WorkerCounts> | null> {
  try {
    const r = await fetch(`${origin}/metrics`, { cache: "no-store" });
    if (!r.ok) return null;
    return parseWorkers(await r.text());
  } catch {
    return null;
  }
}

// A bounded history of samples for the workers chart: [time s, starting, idle, busy].
export class WorkerHistory {
  x: number[] = [];
  starting: number[] = [];
  idle: number[] = [];
  busy: number[] = [];
  constructor(private readonly max = 360) {}
  add(tSeconds: number, c: WorkerCounts): void {
    this.x.push(tSeconds);
    this.starting.push(c.starting);
    this.idle.push(c.idle);
    this.busy.push(c.busy);
    if (this.x.length > this.max) for (const a of [this.x, this.starting, this.idle, this.busy]) a.shift();
  }
}
