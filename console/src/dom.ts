/**
 * A few DOM helpers instead of a framework. Text from a bundle or the API is
 * attacker-controlled: it only ever becomes text nodes (`textContent`), never
 * markup, so no escaping can be forgotten.
 */
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page has no #${id}`);
  return el as T;
}

/** Replaces the children of `el`. */
export function fill(el: HTMLElement, ...children: Child[]): void {
  el.replaceChildren();
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
}

/** A definition list from [term, value] pairs. */
export function facts(pairs: readonly (readonly [string, Child])[]): HTMLDListElement {
  return h('dl', { class: 'facts' }, ...pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** A horizontal bar chart: one row per [label, count], bars scaled to the largest. */
export function bars(title: string, data: readonly (readonly [string, number])[], id: string): HTMLElement {
  const max = Math.max(1, ...data.map(([, n]) => n));
  return h(
    'figure',
    { class: 'bars', id },
    h('figcaption', {}, title),
    h(
      'table',
      {},
      h(
        'tbody',
        {},
        ...data.map(([label, n]) => {
          const bar = h('meter', { min: 0, max, value: n, title: `${label}: ${n}` });
          return h(
            'tr',
            {},
            h('th', { scope: 'row' }, label),
            h('td', {}, bar),
            h('td', { class: 'num' }, n),
          );
        }),
      ),
    ),
  );
}
