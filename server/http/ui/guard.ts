// What guards the web UI: the Host check against DNS rebinding (host-check.ts), basic auth (when
// TIDELINE_WEB_USERNAME/PASSWORD are set), CSRF tokens on every form that changes state, a
// same-origin check, and strict response headers.
//
// CSRF tokens need no session: a token is `issuedAt.HMAC(secret, user ‖ action ‖ issuedAt)`,
// bound to the signed-in user and to one action (`unlock:<lock key>`), valid for a few hours.
// A page on another site can make the browser send the basic-auth credentials, but cannot read
// a page of ours to learn a token.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { WebHostCheck } from './host-check.js';

export type WebCredentials = { username: string; password: string } | null;

/** Who is using the UI: the basic-auth user, or null when the UI has no credentials. */
export function webUser(res: Response): string | null {
  const user: unknown = res.locals['webUser'];
  return typeof user === 'string' ? user : null;
}

/** No script, style, frame, font or connection may come from anywhere but this server. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  // same-origin, not no-referrer: with no-referrer Chrome sends `Origin: null` on our own form posts.
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares digests, so neither length nor content leaks through timing. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** `Authorization: Basic …` → user and password, or null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header ?? '');
  if (match?.[1] === undefined) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Every UI route: strict headers; a 421 for a Host the UI does not answer to, with or without
 * credentials, and before asking for them, so a rebound name gets no login prompt to phish
 * with; with credentials configured, a 401 asking for basic auth unless both user and password
 * match (both are always compared, in constant time).
 */
export function uiGuard(web: WebCredentials, hosts: WebHostCheck): RequestHandler {
  return function guard(req: Request, res: Response, next: NextFunction): void {
    securityHeaders(res);
    res.setHeader('Cache-Control', 'no-store');
    if (!hosts.admit(req, res)) return;
    if (web === null) {
      res.locals['webUser'] = null;
      next();
      return;
    }
    const given = parseBasicAuth(req.header('authorization'));
    const userOk = sameSecret(given?.user ?? '', web.username);
    const passwordOk = sameSecret(given?.password ?? '', web.password);
    if (given === null || !userOk || !passwordOk) {
      res.setHeader('WWW-Authenticate', 'Basic realm="Tideline", charset="UTF-8"');
      res.status(401).type('text/plain').send('Sign in with TIDELINE_WEB_USERNAME and TIDELINE_WEB_PASSWORD to use the Tideline web UI.\n');
      return;
    }
    res.locals['webUser'] = web.username;
    next();
  };
}

/** How long a form stays valid. */
export const CSRF_TTL_MS = 4 * 3600_000;

function csrfMac(secret: string, user: string, action: string, issuedAt: number): string {
  return createHmac('sha256', secret).update(`${user}\n${action}\n${issuedAt}`, 'utf8').digest('base64url');
}

export function csrfToken(secret: string, user: string | null, action: string, now: number = Date.now()): string {
  return `${now.toString(36)}.${csrfMac(secret, user ?? '', action, now)}`;
}

export type CsrfCheck = 'ok' | 'missing' | 'invalid' | 'expired';

export function checkCsrf(secret: string, user: string | null, action: string, token: unknown, now: number = Date.now()): CsrfCheck {
  if (typeof token !== 'string' || token === '') return 'missing';
  const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (match?.[1] === undefined || match[2] === undefined) return 'invalid';
  const issuedAt = Number.parseInt(match[1], 36);
  if (!sameSecret(match[2], csrfMac(secret, user ?? '', action, issuedAt))) return 'invalid';
  if (issuedAt > now + 60_000 || now - issuedAt > CSRF_TTL_MS) return 'expired';
  return 'ok';
}

/**
 * Whether the browser says the request came from one of our own pages. A second line behind
 * the token. `Sec-Fetch-Site` is the browser's own word and survives a reverse proxy that
 * rewrites `Host` (nginx's default does), so when it is sent it decides alone; only browsers
 * without it fall back to comparing `Origin` with `Host`.
 */
export function sameOrigin(req: Request): boolean {
  const site = req.header('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const origin = req.header('origin');
  if (origin === undefined || origin === '') return true;
  try {
    return new URL(origin).host === req.header('host');
  } catch {
    return false;
  }
}
