// The drift API, behind the bearer token TIDELINE_API_SECRET (compared in constant time):
//   POST /api/drift/run[?repo=owner/name]  → 202 { enqueued }: sweeps every served repository,
//                                            or the one named (also accepted as JSON `{ "repo" }`).
//   GET  /api/drift[?repo=owner/name]      → 200 { projects: [...] }: every project's drift state.
// Without the secret both answer 404 saying how to enable them. The read route needs the token
// too, as Argo CD's API does: drift state names infrastructure and shows plan excerpts, and the
// web UI reads it through `driftStates` behind its own login.

import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { driftStates } from './store.js';

export interface DriftApiOptions {
  db: Db;
  /** TIDELINE_API_SECRET; null disables the routes. */
  apiSecret: string | null;
  /** Enqueues sweeps (all served repositories, or the one named); returns how many. */
  runNow: (repoFullName?: string) => number;
  log: Logger;
}

const REPO_NAME = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;

export function driftApi(opts: DriftApiOptions): Router {
  const router = express.Router();
  const log = opts.log.child({ route: '/api/drift' });

  // The token is checked before the body is read. Drift states name infrastructure and quote
  // plans, so no answer of these routes may sit in a proxy's or browser's cache.
  const guard = (req: Request, res: Response, next: () => void): void => {
    res.setHeader('Cache-Control', 'no-store');
    if (authorized(opts, req, res)) next();
  };
  router.post('/api/drift/run', guard, express.json({ limit: '16kb', strict: true }), (req: Request, res: Response): void => {
    // express.json skips a body of another type; read as "no repo", it would sweep everything.
    // (An empty POST, as `fetch` and `curl -X POST` send it, has no type and is fine.)
    if (req.is('application/json') === false && req.header('content-length') !== '0') {
      res.status(415).json({ error: `the body is ${req.header('content-type') ?? 'of no type'}: send Content-Type: application/json with {"repo":"owner/name"}, or use ?repo= and no body` });
      return;
    }
    const asked = repoOf(req, 'POST /api/drift/run');
    if (!asked.ok) {
      res.status(400).json({ error: asked.error });
      return;
    }
    const { repo } = asked;
    const enqueued = opts.runNow(repo ?? undefined);
    if (repo !== null && enqueued === 0) {
      res.status(404).json({ error: `repository ${repo} is not one this server serves: it must match TIDELINE_REPO_ALLOWLIST, and the server learns it from its webhooks` });
      return;
    }
    log.info({ repo, enqueued }, 'drift sweep requested');
    res.status(202).json({ enqueued });
  });

  router.get('/api/drift', guard, (req: Request, res: Response): void => {
    const asked = repoOf(req, 'GET /api/drift');
    if (!asked.ok) {
      res.status(400).json({ error: asked.error });
      return;
    }
    res.json({ projects: driftStates(opts.db, asked.repo ?? undefined) });
  });

  return router;
}

/** Answers 404 (disabled) or 401 and returns false, unless the request carries the secret. */
function authorized(opts: DriftApiOptions, req: Request, res: Response): boolean {
  if (opts.apiSecret === null) {
    res.status(404).json({ error: 'the drift API is disabled: set TIDELINE_API_SECRET to enable /api/drift' });
    return false;
  }
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.header('authorization') ?? '');
  const given = match?.[1] ?? null;
  if (given === null || !sameSecret(given, opts.apiSecret)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="tideline"');
    res.status(401).json({ error: given === null ? 'missing bearer token: send Authorization: Bearer <TIDELINE_API_SECRET>' : 'wrong bearer token' });
    return false;
  }
  return true;
}

/** Compares digests, so neither the length nor the content of the secret leaks through timing. */
function sameSecret(given: string, secret: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(secret));
}

type AskedRepo = { ok: true; repo: string | null } | { ok: false; error: string };

const MALFORMED = 'repo must be one owner/name, e.g. ?repo=acme/infra (or {"repo":"acme/infra"})';

/**
 * `?repo=` or JSON `repo`: the name, or null for every repository. Anything else in the query or
 * the body is refused: read as "no repo", a misspelt `?rep=` or `{"repository": …}` would sweep
 * (or list) every repository instead of the one meant.
 */
function repoOf(req: Request, route: string): AskedRepo {
  for (const name of Object.keys(req.query)) {
    if (name !== 'repo') return { ok: false, error: `query parameter \`${name}\` is not a query parameter of ${route}: use ?repo=owner/name, or nothing for every repository` };
  }
  const fromQuery: unknown = req.query['repo'];
  const body: unknown = req.body;
  let fromBody: unknown;
  // express.json leaves no body as undefined (express 5); a JSON body must be `{}` or `{"repo": …}`.
  if (body !== undefined) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, error: `the body must be a JSON object like {"repo":"owner/name"}, or empty` };
    for (const key of Object.keys(body)) {
      if (key !== 'repo') return { ok: false, error: `body key \`${key}\` is not a body key of ${route}: send {"repo":"owner/name"}, or {} for every repository` };
    }
    fromBody = (body as { repo?: unknown }).repo;
  }
  for (const given of [fromQuery, fromBody]) {
    if (given !== undefined && !(typeof given === 'string' && REPO_NAME.test(given))) return { ok: false, error: MALFORMED };
  }
  if (typeof fromQuery === 'string' && typeof fromBody === 'string' && fromQuery.toLowerCase() !== fromBody.toLowerCase()) {
    return { ok: false, error: `the request names ${fromQuery} in ?repo= and ${fromBody} in the body: name one repository, once` };
  }
  const repo = fromQuery ?? fromBody;
  return { ok: true, repo: typeof repo === 'string' ? repo : null };
}
