// Names for TIDELINE_WEB_HOSTS: the DNS names the web UI answers to besides IP addresses,
// localhost and TIDELINE_URL's host (server/http/ui/host-check.ts), for a reverse proxy that
// rewrites Host to its upstream's name. Each entry is one exact host name, as a browser or proxy
// sends it in Host, without scheme, port or path; any port is accepted, so none is given.

import { isIPv4, isIPv6 } from 'node:net';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** An entry as the check compares it: lowercase, without a trailing dot. */
export function normalWebHost(entry: string): string {
  const lower = entry.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Null when `entry` is a host name (or an IP address, always accepted anyway), else "`entry`, which …: fix". */
export function webHostProblem(entry: string): string | null {
  if (entry.includes('://') || entry.includes('/')) {
    const host = URL.canParse(entry) ? new URL(entry).hostname : null;
    const fix = host === null || host === '' ? 'give the host name alone, e.g. `tideline.internal`' : `write \`${host}\``;
    return `\`${entry}\`, which is a URL, not a host name: ${fix} (no scheme, port or path)`;
  }
  if (entry.includes('*')) {
    return `\`${entry}\`, a wildcard: list each name in full (under a wildcard, a name someone else can point at this server would pass)`;
  }
  if (isIPv4(entry) || (entry.startsWith('[') && entry.endsWith(']') && isIPv6(entry.slice(1, -1)))) {
    return null;
  }
  const port = /^(.*):\d+$/.exec(entry);
  if (port?.[1] !== undefined && !port[1].includes(':')) {
    return `\`${entry}\`, which has a port: drop it and write \`${port[1]}\` (every port is accepted)`;
  }
  if (/[^\x20-\x7e]/.test(entry)) {
    const ascii = URL.canParse(`http://${entry}`) ? new URL(`http://${entry}`).hostname : null;
    const fix = ascii === null ? 'write it in its xn-- form, as browsers send it' : `write it as browsers send it: \`${ascii}\``;
    return `\`${entry}\`, which is not ASCII: ${fix}`;
  }
  const name = normalWebHost(entry);
  if (name.length > 253 || !name.split('.').every((label) => LABEL.test(label))) {
    return `\`${entry}\`, which is not a host name: use letters, digits, -, _ and dots, e.g. \`tideline.internal\``;
  }
  return null;
}
