// A few DOM helpers: the pages build their markup with these, escaping every string.

export function esc(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function $(root: ParentNode, sel: string): HTMLElement {
  const el = root.querySelector(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el as HTMLElement;
}

export function html(el: HTMLElement, markup: string): void {
  el.innerHTML = markup;
}

export function errorBox(title: string, message: string, testId = "error"): string {
  return `<div class="error" role="alert" data-testid="${esc(testId)}"><strong>${esc(title)}</strong><p>${esc(message)}</p></div>`;
}
