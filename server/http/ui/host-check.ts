// Which Host a web UI request may name: the defence against DNS rebinding (as Jupyter,
// webpack-dev-server and Grafana have it). A page on an attacker's name that re-resolves to this
// server's address is same-origin with the server in the browser's eyes, so Sec-Fetch-Site,
// Origin and the CSRF token all let it through; but the browser still sends the attacker's name
// in Host. So the UI answers only to:
// - an IP literal (v4, or v6 in brackets), on any port: rebinding needs a DNS name;
// - `localhost` and names under `.localhost` (reserved, RFC 6761: nobody can point them elsewhere);
// - the names it was given (TIDELINE_URL's host, TIDELINE_WEB_HOSTS), on any port.
// A request without Host is let through: every browser sends one, so it is not a browser's.

import { isIPv4, isIPv6 } from 'node:net';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { normalWebHost } from '../../../config/web-host.js';
import { HostRefusalLog } from './host-refusal-log.js';

/** How much of a refused Host is echoed in the answer and the log. */
export const SHOWN_HOST_CHARS = 100;

/** A Host header read: an IP literal, or a name lowercased without port and trailing dot; null if neither. */
export type HostName = { kind: 'ip' } | { kind: 'name'; name: string };

export function readHost(header: string): HostName | null {
  const text = header.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::\d{0,5})?$/.exec(text);
  if (bracketed !== null) return isIPv6(bracketed[1] ?? '') ? { kind: 'ip' } : null;
  const named = /^([^:[\]]+)(?::\d{0,5})?$/.exec(text);
  if (named?.[1] === undefined) return null;
  const name = named[1].endsWith('.') ? named[1].slice(0, -1) : named[1];
  if (isIPv4(name)) return { kind: 'ip' };
  return name === '' ? null : { kind: 'name', name };
}

/** The names beyond IP literals and localhost the UI answers to: TIDELINE_URL's host and the listed ones. */
export function webHostNames(publicUrl: string | null, listed: readonly string[] = []): string[] {
  const names = listed.map(normalWebHost);
  if (publicUrl !== null && URL.canParse(publicUrl)) {
    const host = readHost(new URL(publicUrl).host);
    if (host?.kind === 'name') names.unshift(host.name);
  }
  return [...new Set(names)];
}

export function hostAllowed(header: string | undefined, names: ReadonlySet<string>): boolean {
  if (header === undefined) return true;
  const host = readHost(header);
  if (host === null) return false;
  if (host.kind === 'ip') return true;
  return host.name === 'localhost' || host.name.endsWith('.localhost') || names.has(host.name);
}

/** `text` for an answer or a log line: at most SHOWN_HOST_CHARS characters. */
export function clipHost(text: string): string {
  return text.length > SHOWN_HOST_CHARS ? `${text.slice(0, SHOWN_HOST_CHARS - 3)}...` : text;
}

/** The name to list for a refused Host: without its port, when it has one. */
function readableName(host: string): string {
  const named = /^([^:[\]]+)(?::\d*)?$/.exec(host.trim().toLowerCase());
  return clipHost(named?.[1] ?? host);
}

export function refusalText(host: string): string {
  return [
    `Refused: this Tideline server does not answer to the Host ${JSON.stringify(clipHost(host))}.`,
    'The web UI answers only to IP addresses, localhost and the names it is given, so that a page on',
    'another site cannot pose as it by pointing its own name at this address (DNS rebinding).',
    `If this is how people or your proxy reach Tideline, add ${JSON.stringify(readableName(host))} to TIDELINE_WEB_HOSTS`,
    '(comma-separated host names) or set TIDELINE_URL to the URL people use, in the server',
    'environment, and restart it.',
    '',
  ].join('\n');
}

/** The check for every UI route: answers 421 Misdirected Request to a Host it does not know. */
export class WebHostCheck {
  readonly #names: ReadonlySet<string>;
  readonly #refusals: HostRefusalLog;

  constructor(names: readonly string[], log: Logger) {
    this.#names = new Set(names.map(normalWebHost));
    this.#refusals = new HostRefusalLog(log);
  }

  /** True when the request may go on; otherwise the refusal is sent. */
  admit(req: Request, res: Response): boolean {
    const host = req.header('host');
    if (hostAllowed(host, this.#names)) return true;
    const shown = clipHost(host ?? '');
    this.#refusals.refused(shown);
    res.status(421).type('text/plain').send(refusalText(shown));
    return false;
  }

  /** Logs the refusals counted but not yet logged (the server stops). */
  flush(): void {
    this.#refusals.flush();
  }
}
