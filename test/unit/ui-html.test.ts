// The UI's template helper: every interpolated value is escaped, in text and in attributes,
// and links only go to http(s) or same-server paths.

import { describe, expect, it } from 'vitest';
import { escapeHtml, html, Html, link, safeHref } from '../../server/http/ui/html.js';
import { overviewPage } from '../../server/http/ui/overview-page.js';
import type { Overview } from '../../server/http/ui/read-model.js';

const PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='alert(1)",
  '`${alert(1)}`',
  '</title><script>alert(document.cookie)</script>',
  '<svg/onload=alert(1)>',
  '&lt;script&gt;',
  'acme/<b>infra</b>',
];


describe('html template', () => {
  it.each(PAYLOADS)('escapes %j in text and in a quoted attribute', (payload) => {
    const out = html`<td title="${payload}">${payload}</td>`.toString();
    // Nothing the payload holds can close the attribute or open a tag: the only quotes and
    // angle brackets left are the template's own.
    expect(out).toMatch(/^<td title="[^"'<>`]*">[^"'<>`]*<\/td>$/);
    expect(out).not.toContain(payload);
    // What the browser shows is the payload itself, not its escaped form.
    const text = out.replace(/^<td title="[^"]*">/, '').replace(/<\/td>$/, '');
    expect(unescape(text)).toBe(payload);
  });

  it('escapes the five HTML specials and the backtick', () => {
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
  });

  it('keeps markup built by html, escapes plain strings, renders arrays and drops null', () => {
    const inner = html`<b>${'<i>'}</b>`;
    const out = html`<p>${inner}${['<a>', html`<br>`]}${null}${undefined}${false}${3}</p>`.toString();
    expect(out).toBe('<p><b>&lt;i&gt;</b>&lt;a&gt;<br>3</p>');
  });

  it('cannot be fooled by a string that looks like Html', () => {
    const fake = { toString: (): string => '<script>x</script>' } as unknown as string;
    expect(html`${fake}`.toString()).toBe('&lt;script&gt;x&lt;/script&gt;');
    expect(new Html('<ok>').toString()).toBe('<ok>');
  });

  it.each([
    ['https://github.com/acme/infra/pull/1', 'https://github.com/acme/infra/pull/1'],
    ['http://127.0.0.1:3000/acme/infra/pull/1', 'http://127.0.0.1:3000/acme/infra/pull/1'],
    ['/locks/acme%2Finfra', '/locks/acme%2Finfra'],
    ['javascript:alert(1)', null],
    ['JaVaScRiPt:alert(1)', null],
    ['data:text/html,<script>alert(1)</script>', null],
    ['//evil.example/x', null],
    ['/\\evil.example', null],
    ['vbscript:msgbox', null],
    ['not a url', null],
  ])('safeHref(%j) is %j', (url, expected) => {
    expect(safeHref(url)).toBe(expected);
  });

  it('renders an unsafe link as plain text', () => {
    expect(link('javascript:alert(1)', '#1').toString()).toBe('#1');
    expect(link('https://x.example/"><script>', '<x>').toString()).toBe('<a href="https://x.example/%22%3E%3Cscript%3E">&lt;x&gt;</a>');
  });
});

describe('overview page', () => {
  it('escapes every value that came from a webhook or the audit log', () => {
    const evil = '<script>alert(1)</script>';
    const overview: Overview = {
      locks: [
        {
          key: `acme/${evil}/app/default/`,
          repo: `acme/${evil}`,
          dir: `app${evil}`,
          workspace: evil,
          project: evil,
          kind: 'terraform',
          pull: 7,
          pullUrl: 'javascript:alert(1)',
          lockedBy: evil,
          lockedAt: '2025-01-01T00:00:00.000Z',
        },
      ],
      running: [],
      queued: [],
      recent: [],
      counts: { queued: 0, running: 0, succeeded: 0, failed: 0, interrupted: 0 },
      drift: [{ repo: evil, project: evil, dir: evil, workspace: evil, state: evil, since: evil, lastSeen: evil }],
      audit: [
        { seq: 1, time: '2025-01-01T00:00:00.000Z', type: 'lock.taken', actor: evil, repo: evil, pull: 7, project: evil, configDigest: 'c', fields: { x: evil }, prevHash: '0', hash: '1' },
      ],
    };
    const out = overviewPage({ title: evil, version: evil, user: evil, flash: { kind: 'ok', text: evil } }, overview, new Date('2025-01-02T00:00:00Z')).toString();
    expect(out).not.toContain('<script>alert');
    expect(out).not.toContain('javascript:');
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // The only scripts are the server's own file.
    expect(out.match(/<script\b[^>]*>/g)).toEqual([expect.stringMatching(/^<script src="\/ui\/assets\/tideline\.[0-9a-f]{10}\.js" defer>$/)]);
  });
});

/** The inverse of escapeHtml, for checking round trips. */
function unescape(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#96;/g, '`').replace(/&amp;/g, '&');
}
