// The one secret registry (after Renovate's `sanitize.ts`). Every secret the server knows —
// GitHub token, webhook secret, TF_VAR values it injects — is registered once here; comments,
// logs, audit records and child-process output all pass through `mask` before leaving.

/** Strings shorter than this are not registered: masking "a" or "true" would shred output. */
const MIN_SECRET_LENGTH = 4;
const REPLACEMENT = '***';
/**
 * A line of a multi-line secret at least this long, without whitespace (a PEM key's base64
 * lines), is registered on its own: live output is masked a chunk of whole lines at a time, so a
 * key printed across two chunks never matches whole. Shorter or spaced lines are not: they may
 * be ordinary text (`}` or `"type": "service_account",` in a JSON credential).
 */
const MIN_SECRET_LINE_LENGTH = 16;

/** Every form in which `secret` may show up in text we emit. */
function formsOf(secret: string): string[] {
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  // git over HTTPS with a token sends `Authorization: Basic base64(x-access-token:<token>)`.
  const basicAuth = Buffer.from(`x-access-token:${secret}`, 'utf8').toString('base64');
  // Some encoders drop base64 padding; the unpadded forms are prefixes of the padded ones, and
  // the longest-first alternation still prefers the padded form where it is present.
  return [
    secret,
    encodeURIComponent(secret),
    base64,
    base64.replace(/=+$/, ''),
    basicAuth,
    basicAuth.replace(/=+$/, ''),
  ];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

export class SecretMasker {
  readonly #forms = new Set<string>();
  /** Compiled alternation of all forms; `null` until needed or after `add` changed the set. */
  #pattern: RegExp | null = null;

  /**
   * Register a secret: its raw form, its base64 form, its URL-encoded form, and
   * `x-access-token:<s>` base64 (git basic auth header). Ignores strings shorter than 4 chars.
   * A secret read from a file with surrounding whitespace is registered trimmed as well, and
   * each long line of a multi-line one (MIN_SECRET_LINE_LENGTH).
   */
  add(secret: string): void {
    const lines = secret.includes('\n') ? secret.split(/\r?\n/).filter((line) => line.length >= MIN_SECRET_LINE_LENGTH && !/\s/.test(line)) : [];
    const candidates = [...(secret.trim() === secret ? [secret] : [secret, secret.trim()]), ...lines];
    for (const candidate of candidates) {
      if (candidate.length < MIN_SECRET_LENGTH) continue;
      for (const form of formsOf(candidate)) {
        if (form.length < MIN_SECRET_LENGTH || this.#forms.has(form)) continue;
        this.#forms.add(form);
        this.#pattern = null;
      }
    }
  }

  /**
   * Replace every registered form with `***`. Longest first, so a secret that contains
   * another is masked whole. One compiled RegExp, rebuilt lazily when secrets change.
   */
  mask(text: string): string {
    if (this.#forms.size === 0 || text.length === 0) return text;
    const pattern = this.#compiled();
    pattern.lastIndex = 0;
    return text.replace(pattern, REPLACEMENT);
  }

  #compiled(): RegExp {
    if (this.#pattern !== null) return this.#pattern;
    const alternatives = [...this.#forms]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|');
    this.#pattern = new RegExp(alternatives, 'g');
    return this.#pattern;
  }
}
