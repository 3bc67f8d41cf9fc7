// The frame every page shares, the one-time flash message (a signed cookie, so another site
// cannot plant text on our pages), and small pieces the pages reuse.

import { createHmac } from 'node:crypto';
import type { Request, Response } from 'express';
import { sameSecret } from './guard.js';
import { html, type Html, type HtmlValue } from './html.js';
import { SCRIPT, STYLESHEET } from './assets.js';

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

export interface Chrome {
  title: string;
  version: string;
  user: string | null;
  flash?: Flash | null;
}

export function page(chrome: Chrome, body: Html): Html {
  const flash = chrome.flash ?? null;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${chrome.title} · Tideline</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${STYLESHEET.path}">
<script src="${SCRIPT.path}" defer></script>
</head>
<body>
<header class="top">
<a class="brand" href="/"><span>≋</span> Tideline</a>
<nav><a href="/">Overview</a><a href="/#locks">Locks</a><a href="/#jobs">Jobs</a><a href="/#drift">Drift</a><a href="/#audit">Audit</a></nav>
${chrome.user === null ? null : html`<span class="who">signed in as ${chrome.user}</span>`}
</header>
<main>
${flash === null ? null : html`<p class="flash${flash.kind === 'error' ? ' error' : ''}" role="status">${flash.text}</p>`}
${body}
</main>
<footer>Tideline ${chrome.version}</footer>
</body>
</html>
`;
}

/** Sends a rendered page. */
export function sendPage(res: Response, status: number, body: Html): void {
  res.status(status).type('text/html; charset=utf-8').send(body.toString());
}

/** A page that only says something (404, 403 …), with a way back. */
export function messagePage(chrome: Chrome, heading: string, text: HtmlValue): Html {
  return page(chrome, html`<h1>${heading}</h1><section class="card"><p class="empty">${text}</p><div class="actions"><a class="button" href="/">Back to the overview</a></div></section>`);
}

/** `<time>` with the ISO instant as its title and its age as the text. */
export function timeCell(iso: string | null, age: (iso: string) => string): Html {
  if (iso === null) return html`<span class="muted">—</span>`;
  return html`<time datetime="${iso}" title="${iso}">${age(iso)} ago</time>`;
}

export function badge(state: string): Html {
  return html`<span class="badge state-${state.replace(/[^a-z-]/g, '')}">${state}</span>`;
}

const FLASH_COOKIE = 'tideline_flash';

function flashMac(secret: string, value: string): string {
  return createHmac('sha256', secret).update(`flash\n${value}`, 'utf8').digest('base64url');
}

/** Sets the message the next page shows once. */
export function setFlash(res: Response, secret: string, flash: Flash): void {
  const value = Buffer.from(JSON.stringify(flash), 'utf8').toString('base64url');
  res.append('Set-Cookie', `${FLASH_COOKIE}=${value}.${flashMac(secret, value)}; Path=/; Max-Age=120; HttpOnly; SameSite=Strict`);
}

/** Reads and clears the flash message; a cookie that fails its signature is ignored. */
export function takeFlash(req: Request, res: Response, secret: string): Flash | null {
  const cookies = req.header('cookie') ?? '';
  const match = new RegExp(`(?:^|;\\s*)${FLASH_COOKIE}=([A-Za-z0-9_-]+)\\.([A-Za-z0-9_-]+)`).exec(cookies);
  if (match?.[1] === undefined || match[2] === undefined) return null;
  res.append('Set-Cookie', `${FLASH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`);
  if (!sameSecret(match[2], flashMac(secret, match[1]))) return null;
  try {
    const parsed = JSON.parse(Buffer.from(match[1], 'base64url').toString('utf8')) as Partial<Flash>;
    if ((parsed.kind === 'ok' || parsed.kind === 'error') && typeof parsed.text === 'string') return { kind: parsed.kind, text: parsed.text };
  } catch {
    // a damaged cookie shows nothing
  }
  return null;
}
