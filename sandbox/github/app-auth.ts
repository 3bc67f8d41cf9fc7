// Who a request to the double is, and whether it may call the operation it names, as GitHub
// decides it for App auth: an RS256 JWT the App signed for the App's own endpoints, an
// installation token for the repositories of its installation, or the double's plain token.

import { verify } from 'node:crypto';
import type { DoubleState, InstallationRecord } from './types.js';

export type Principal =
  | { kind: 'token' }
  | { kind: 'app' }
  | { kind: 'installation'; installation: InstallationRecord };

export interface Refusal {
  ok: false;
  status: 401 | 403 | 404;
  message: string;
}

export type AuthResult = { ok: true; principal: Principal } | Refusal;

/** GitHub refuses a JWT whose `exp` is more than 10 minutes ahead. */
export const MAX_JWT_LIFETIME_S = 600;
/**
 * How far ahead of the double's clock an `iat` may be. GitHub asks Apps to backdate `iat` by 60 s
 * against clock drift and does not say how much drift it allows the other way; the double allows 60 s.
 */
const IAT_SKEW_S = 60;

const UNDECODABLE = 'A JSON web token could not be decoded';
const BAD_EXP = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const FAR_EXP = "'Expiration time' claim ('exp') is too far in the future";
const BAD_IAT = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";

/** Operations that take the App's JWT and nothing else (the `/app…` and `…/installation` routes). */
const JWT_OPERATIONS = new Set([
  'apps/get-authenticated',
  'apps/get-repo-installation',
  'apps/get-org-installation',
  'apps/get-user-installation',
  'apps/get-installation',
  'apps/list-installations',
  'apps/delete-installation',
  'apps/create-installation-access-token',
]);

/** The credential of an `Authorization: token …` / `Bearer …` header, checked; before any routing, as GitHub does. */
export function authenticate(state: DoubleState, header: string | undefined, nowMs = Date.now()): AuthResult {
  const match = /^(token|bearer)\s+(\S+)\s*$/i.exec(header ?? '');
  const credential = match?.[2];
  if (credential === undefined) return badCredentials();
  if (credential === state.token) return { ok: true, principal: { kind: 'token' } };
  // "If you are passing a JWT, you must use Authorization: Bearer" (GitHub's docs): sent as
  // `token`, it is looked up as a token, and there is no such token.
  if (looksLikeJwt(credential)) return match?.[1]?.toLowerCase() === 'bearer' ? verifyAppJwt(state, credential, Math.floor(nowMs / 1000)) : badCredentials();
  const token = state.installationTokens.get(credential);
  const installation = token === undefined ? undefined : state.installations.get(token.installationId);
  // A token of an uninstalled installation is revoked; an expired one is simply no credential.
  if (token === undefined || installation === undefined || installation.deletedAt !== null || token.expiresAtMs <= nowMs) return badCredentials();
  // A live token of a suspended installation is known but refused, with who suspended it and
  // when; octokit.rb reads a 403 matching "suspended your access" as InstallationSuspended.
  if (installation.suspendedAt !== null) return refuse(403, `Sorry. This installation owned by ${installation.account} suspended your access at ${installation.suspendedAt}.`);
  return { ok: true, principal: { kind: 'installation', installation } };
}

/** Whether `principal` may call `operationId` on `params`; null when it may. */
export function authorize(principal: Principal, operationId: string, params: Record<string, string>): Refusal | null {
  const needsJwt = JWT_OPERATIONS.has(operationId);
  if (principal.kind === 'token') return needsJwt ? refuse(401, UNDECODABLE) : null;
  if (principal.kind === 'app') {
    // A JWT is the App's own identity; elsewhere GitHub answers it 401 Bad credentials (as
    // reported on GitHub's community forum for a JWT sent to a repository's endpoints).
    return needsJwt ? null : badCredentials();
  }
  // GitHub reads any non-JWT credential on these routes as a JWT it cannot decode.
  if (needsJwt) return refuse(401, UNDECODABLE);
  if (operationId === 'users/get-authenticated') return refuse(403, 'Resource not accessible by integration');
  const owner = params['owner'];
  const repo = params['repo'];
  if (owner === undefined || repo === undefined) return null;
  // A repository outside the installation does not exist, as far as its tokens can tell.
  if (!principal.installation.repos.has(`${owner}/${repo}`.toLowerCase())) return refuse(404, 'Not Found');
  return null;
}

function verifyAppJwt(state: DoubleState, jwt: string, now: number): AuthResult {
  const app = state.app;
  const [headerPart = '', payloadPart = '', signaturePart = ''] = jwt.split('.');
  const header = decodeJson(headerPart);
  const payload = decodeJson(payloadPart);
  if (app === null || header === null || payload === null || header['alg'] !== 'RS256') return refuse(401, UNDECODABLE);
  // `iss` picks the App whose key checks the signature: another App's id (or client id) finds a
  // key that does not verify it, which GitHub reports as undecodable, not as a wrong issuer.
  const iss = payload['iss'];
  const issuer = typeof iss === 'number' || typeof iss === 'string' ? String(iss) : '';
  if (issuer !== String(app.id) && issuer !== app.clientId) return refuse(401, UNDECODABLE);
  const signed = verify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), app.publicKey, Buffer.from(signaturePart, 'base64url'));
  if (!signed) return refuse(401, UNDECODABLE);
  const iat = payload['iat'];
  if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > now + IAT_SKEW_S) return refuse(401, BAD_IAT);
  const exp = payload['exp'];
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= now) return refuse(401, BAD_EXP);
  if (exp > now + MAX_JWT_LIFETIME_S) return refuse(401, FAR_EXP);
  return { ok: true, principal: { kind: 'app' } };
}

function looksLikeJwt(credential: string): boolean {
  return /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(credential);
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function badCredentials(): Refusal {
  return refuse(401, 'Bad credentials');
}

function refuse(status: 401 | 403 | 404, message: string): Refusal {
  return { ok: false, status, message };
}
