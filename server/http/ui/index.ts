// The web UI: server-rendered pages, one stylesheet and one script served from here, nothing
// from anywhere else. Every route has its own guard (the Host check, basic auth when credentials
// are set, strict headers), so mounting the router at `/` never puts either in front of other routes.

import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { AuditLog } from '../../audit/index.js';
import type { LiveOutput } from '../../jobs/live-output.js';
import { getJob } from '../../jobs/queue.js';
import { getLock, listLocks, lockKey, type Lock } from '../../locks/locks.js';
import type { Db } from '../../store/db.js';
import { methodNotAllowed } from '../errors.js';
import { ASSETS } from './assets.js';
import { csrfToken, uiGuard, webUser, type WebCredentials } from './guard.js';
import { WebHostCheck } from './host-check.js';
import { html } from './html.js';
import { jobEvents, parseJobId } from './job-events.js';
import { jobPage } from './job-page.js';
import { messagePage, sendPage, takeFlash, type Chrome } from './layout.js';
import { lockPage, unlockAction } from './lock-page.js';
import { lockPath, overviewPage, projectLabel } from './overview-page.js';
import { readOverview, type DriftRow } from './read-model.js';
import { unlockHandler } from './unlock.js';

export { escapeHtml, html, Html, safeHref } from './html.js';
export { CONTENT_SECURITY_POLICY, checkCsrf, csrfToken } from './guard.js';
export { webHostNames } from './host-check.js';
export type { DriftRow } from './read-model.js';

export interface UiContext {
  db: Db;
  audit: AuditLog;
  live: LiveOutput;
  log: Logger;
  /** TIDELINE_WEB_USERNAME / TIDELINE_WEB_PASSWORD; null leaves the UI open. */
  web: WebCredentials;
  /**
   * DNS names the UI answers to besides IP literals and localhost (see host-check.ts), from
   * `webHostNames`: TIDELINE_URL's host and TIDELINE_WEB_HOSTS. Any other name in Host gets 421.
   */
  hosts: readonly string[];
  /** Reads drift states when drift exists; return [] until then. */
  driftStates: () => DriftRow[];
  version: string;
  /** Random per server: signs CSRF tokens and flash cookies. */
  csrfSecret: string;
  /** Command prefix for the notice a pull request gets when its lock is released here; default `tideline`. */
  commandPrefix?: string;
  /** Wakes the worker pool after that notice is queued; without it the pool's poll finds it. */
  notify?: () => void;
  /** Ends open live-output streams when it aborts (server shutdown), so `server.close` can finish. */
  signal?: AbortSignal;
}

export function uiRouter(ctx: UiContext): Router {
  const router = express.Router();
  const log = ctx.log.child({ component: 'ui' });
  const hostCheck = new WebHostCheck(ctx.hosts, log);
  // What the refusal log counted in the minute the server stops in is logged, not lost.
  ctx.signal?.addEventListener('abort', () => hostCheck.flush(), { once: true });
  const guard = uiGuard(ctx.web, hostCheck);
  const chrome = (res: Response, title: string, req?: Request): Chrome => ({
    title,
    version: ctx.version,
    user: webUser(res),
    flash: req === undefined ? null : takeFlash(req, res, ctx.csrfSecret),
  });
  const notFound = (res: Response, heading: string, text: string): void => {
    sendPage(res, 404, messagePage(chrome(res, heading), heading, text));
  };

  for (const asset of ASSETS) {
    router.get(asset.path, guard, (_req, res) => {
      res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
      res.type(asset.type).send(asset.body);
    });
  }

  router.get('/', guard, (req, res) => {
    sendPage(res, 200, overviewPage(chrome(res, 'Overview', req), readOverview(ctx.db, ctx.driftStates), new Date()));
  });

  // The links PR comments carry: /locks?repo=&dir=&workspace=&project= (see comments/project.ts).
  router.get('/locks', guard, (req, res) => {
    const q = (name: string): string | undefined => (typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined);
    const repo = q('repo');
    const dir = q('dir');
    const workspace = q('workspace') ?? 'default';
    const project = q('project');
    if (repo !== undefined && dir !== undefined) {
      const key = lockKey(repo, { dir, workspace, ...(project === undefined ? {} : { name: project }) });
      if (getLock(ctx.db, key) !== null) {
        res.redirect(303, lockPath(key));
        return;
      }
    }
    const matches = listLocks(ctx.db).filter(
      (l: Lock) => (repo === undefined || l.repo === repo) && (dir === undefined || l.dir === dir) && l.workspace === workspace && (project === undefined || l.project === project),
    );
    if (matches.length === 1 && matches[0] !== undefined) {
      res.redirect(303, lockPath(matches[0].key));
      return;
    }
    if (matches.length === 0) {
      notFound(res, 'No such lock', 'No lock matches: it may have been released already.');
      return;
    }
    sendPage(
      res,
      200,
      messagePage(chrome(res, 'Locks'), 'Several locks match', html`${matches.map((l) => html`<a href="${lockPath(l.key)}">${l.repo} ${projectLabel(l)} (${l.workspace}, #${l.pull})</a><br>`)}`),
    );
  });

  router.get('/locks/:key', guard, (req, res) => {
    const key = req.params['key'] as string;
    const lock = getLock(ctx.db, key);
    if (lock === null) {
      notFound(res, 'No such lock', `No lock is held for ${key}: it may have been released already.`);
      return;
    }
    const user = webUser(res);
    sendPage(res, 200, lockPage(chrome(res, `Lock ${lock.repo} ${projectLabel(lock)}`, req), lock, csrfToken(ctx.csrfSecret, user, unlockAction(key)), new Date()));
  });

  router.post(
    '/locks/:key/unlock',
    guard,
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 10 }),
    unlockHandler({
      db: ctx.db,
      audit: ctx.audit,
      log,
      csrfSecret: ctx.csrfSecret,
      commandPrefix: ctx.commandPrefix ?? 'tideline',
      notify: ctx.notify ?? ((): void => {}),
      chrome: (res, title) => chrome(res, title),
    }),
  );

  router.get('/jobs/:id', guard, (req, res) => {
    const id = parseJobId(req.params['id'] as string);
    const job = id === null ? null : getJob(ctx.db, id);
    if (id === null || job === null) {
      notFound(res, 'No such job', `There is no job ${String(req.params['id'])}.`);
      return;
    }
    sendPage(res, 200, jobPage(chrome(res, `Job #${id}`, req), job, ctx.live.snapshot(id), new Date()));
  });

  router.get('/jobs/:id/events', guard, jobEvents({ db: ctx.db, live: ctx.live, log, ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) }));

  // The other methods of the routes above get 405 with Allow, as the API's do (app.ts), rather
  // than a 404 that says the page does not exist. Behind the guard: a rebound Host still gets
  // its 421 and a caller without credentials its 401, so neither learns anything new.
  const pages = ['/', '/locks', '/locks/:key', '/jobs/:id', '/jobs/:id/events', ...ASSETS.map((asset) => asset.path)];
  for (const path of pages) router.all(path, guard, methodNotAllowed(['GET', 'HEAD']));
  router.all('/locks/:key/unlock', guard, methodNotAllowed(['POST']));

  return router;
}
