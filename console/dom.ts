import { ApiError } from './api.js';
import { formatTime } from './format.js';

type Child = Node | string | null | undefined | false;
type Props = { class?: string; text?: string; attrs?: Record<string, string> };

/** Builds an element; text goes in through textContent and text nodes only, never as markup. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`the console page has no #${id} ${type.name}`);
  return node;
}

export function inputValue(form: HTMLFormElement, name: string): string {
  const field = form.elements.namedItem(name);
  if (
    !(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement || field instanceof HTMLSelectElement)
  ) {
    throw new Error(`the form has no field ${name}`);
  }
  return field.value.trim();
}

/** A definition list of label → value pairs. */
export function facts(pairs: [string, string | Node][]): HTMLDListElement {
  return el('dl', { class: 'facts' }, ...pairs.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', {}, v)]));
}

/** A table whose cells carry their column's name, so that narrow screens can stack each row as a card. */
export function table(headings: string[], rows: (string | Node)[][], caption?: string): HTMLTableElement {
  return el(
    'table',
    { class: 'stack' },
    caption ? el('caption', { text: caption }) : null,
    el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', { text: h, attrs: { scope: 'col' } })))),
    el(
      'tbody',
      {},
      ...rows.map((cells) =>
        el('tr', {}, ...cells.map((c, i) => el('td', { attrs: { 'data-label': headings[i] ?? '' } }, c))),
      ),
    ),
  );
}

/** A time in the reader's zone, with the zone named; the exact UTC instant in the title and datetime. */
export function when(iso: string | null | undefined): HTMLElement | string {
  if (!iso) return '—';
  return el('time', { text: formatTime(iso), attrs: { datetime: iso, title: iso } });
}

/** A status line in `box`: what went wrong (the vault's code, status and message) or what happened. */
export function notice(box: HTMLElement, kind: 'error' | 'info' | 'ok', message: string): void {
  box.replaceChildren(
    el('p', { class: `notice ${kind}`, text: message, attrs: { role: kind === 'error' ? 'alert' : 'status' } }),
  );
}

export function showError(box: HTMLElement, err: unknown): void {
  if (err instanceof ApiError) notice(box, 'error', `${err.message} (${err.code}, HTTP ${err.status})`);
  else if (err instanceof TypeError) notice(box, 'error', `The vault could not be reached: ${err.message}`);
  else notice(box, 'error', err instanceof Error ? err.message : String(err));
}

/** Runs a form's handler on submit; the form itself never goes to the network (CSP form-action 'none' too). */
export function onSubmit(
  form: HTMLFormElement,
  handler: (form: HTMLFormElement) => Promise<void>,
  errors: HTMLElement,
): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    if (button instanceof HTMLButtonElement) button.disabled = true;
    handler(form)
      .catch((err: unknown) => showError(errors, err))
      .finally(() => {
        if (button instanceof HTMLButtonElement) button.disabled = false;
      });
  });
}
