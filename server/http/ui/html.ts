// A tiny HTML template helper with auto-escaping. Every value interpolated into `html`...``
// is escaped unless it is already `Html` (the result of another `html` template), so repo
// names, branch names, log lines and audit fields can never become markup. Templates always
// quote attribute values; `safeHref` keeps links to http(s) and same-server paths.

/** Markup that is known to be safe: built by `html`, never from a plain string. */
export class Html {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  toString(): string {
    return this.#text;
  }
}

/** A value a template accepts: text is escaped, Html is kept, nothing renders as ''. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.toString();
  if (value === null || value === undefined || value === false || value === true) return '';
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

/** The tagged template: `html\`<td>${repo}</td>\``. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/**
 * A link target that cannot run script: http(s) URLs and same-server paths as given, anything
 * else (`javascript:`, `data:`, protocol-relative `//host`) becomes null.
 */
export function safeHref(url: string): string | null {
  if (url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** `<a href>` when the URL is safe, the plain (escaped) text otherwise. */
export function link(url: string, text: HtmlValue, attrs: { class?: string } = {}): Html {
  const href = safeHref(url);
  if (href === null) return html`${text}`;
  return attrs.class === undefined ? html`<a href="${href}">${text}</a>` : html`<a href="${href}" class="${attrs.class}">${text}</a>`;
}
