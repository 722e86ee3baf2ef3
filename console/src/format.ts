// Number and time formatting shared by every page. Latencies arrive in microseconds
// (CloudWatch's unit for ModelLatency / OverheadLatency / ModelSetupTime).

export function formatMicros(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us)) return "–";
  if (us < 1000) return `${Math.round(us)} µs`;
  const ms = us / 1000;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatMillis(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  return formatMicros(ms * 1000);
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  if (Math.abs(n) < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(1);
  if (Math.abs(n) < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatMemory(mb: number | undefined): string {
  if (mb === undefined) return "–";
  return mb % 1024 === 0 ? `${mb / 1024} GB` : `${mb} MB`;
}

// "12 s ago", "3 min ago", "2 h ago" relative to now (both in ms since the epoch).
export function formatAgo(then: number, now: number): string {
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function formatClock(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// A CSS class for an endpoint status badge.
export function statusClass(status: string | undefined): string {
  switch (status) {
    case "InService":
      return "ok";
    case "Failed":
    case "OutOfService":
      return "bad";
    case "Creating":
    case "Updating":
    case "SystemUpdating":
    case "RollingBack":
    case "Deleting":
      return "busy";
    default:
      return "unknown";
  }
}
