// POST /locks/:key/unlock: releases one lock from the web UI. Needs the UI's basic auth (the
// router's guard), a same-origin request, a valid CSRF token bound to the user and this lock,
// and a confirmation. The release, its audit record and the notice to the pull request commit
// in one transaction.

import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { AuditLog } from '../../audit/index.js';
import { commandFor } from '../../comments/project.js';
import { finishComment, inlineCode } from '../../comments/markdown.js';
import { enqueue } from '../../jobs/queue.js';
import { DEFAULT_BRANCH_PULL, getLock, projectOf, releaseKey, type Lock } from '../../locks/locks.js';
import type { Db } from '../../store/db.js';
import { knownRepos } from '../../store/repos.js';
import { pullKey } from '../route-event.js';
import { checkCsrf, csrfToken, sameOrigin, webUser, type CsrfCheck } from './guard.js';
import { messagePage, sendPage, setFlash, type Chrome } from './layout.js';
import { confirmUnlockPage, unlockAction } from './lock-page.js';
import { projectLabel } from './overview-page.js';

export interface UnlockContext {
  db: Db;
  audit: AuditLog;
  log: Logger;
  csrfSecret: string;
  commandPrefix: string;
  notify: () => void;
  chrome: (res: Response, title: string) => Chrome;
}

/** The actor of a release from the UI: the signed-in user, or `web` when the UI has no login. */
export function webActor(user: string | null): string {
  return user ?? 'web';
}

export const UNLOCK_REASON = 'unlocked from the web UI';

const CSRF_MESSAGES: Record<Exclude<CsrfCheck, 'ok'>, string> = {
  missing: 'The form carried no CSRF token, so nothing was changed. Open the lock page and use its Unlock button.',
  invalid: 'The form carried a CSRF token that is not valid for you and this lock, so nothing was changed. Open the lock page and try again.',
  expired: 'The form has expired, so nothing was changed. Open the lock page again and use its Unlock button.',
};

/** The comment the pull request gets: its lock is gone, and how to plan again. */
export function releasedNotice(prefix: string, lock: Lock, actor: string): string {
  const project = projectOf(lock);
  const name = project.name === undefined ? '' : `project: ${inlineCode(project.name)} `;
  return finishComment(
    [
      `**Lock released** from the Tideline web UI by ${inlineCode(actor)}: ${name}dir: ${inlineCode(lock.dir)} workspace: ${inlineCode(lock.workspace)}.`,
      `The plan this pull request made for it can no longer be applied. To plan again, comment ${inlineCode(commandFor({ prefix }, 'plan', project))}.`,
    ],
    'released',
  );
}

/** Releases the lock and queues the notice (when the repository is known), in one transaction. */
export function releaseFromWeb(ctx: Pick<UnlockContext, 'db' | 'audit' | 'commandPrefix'>, key: string, actor: string): { lock: Lock | null; notified: boolean } {
  return ctx.db.transaction((): { lock: Lock | null; notified: boolean } => {
    const lock = releaseKey(ctx.db, ctx.audit, key, actor, UNLOCK_REASON);
    if (lock === null || lock.pull === DEFAULT_BRANCH_PULL) return { lock, notified: false };
    const repo = knownRepos(ctx.db).find((r) => r.fullName === lock.repo);
    if (repo === undefined) return { lock, notified: false };
    enqueue(ctx.db, { type: 'reply', repo: repo.fullName, pull: lock.pull, serialKey: pullKey(repo, lock.pull), payload: { repo, pull: lock.pull, body: releasedNotice(ctx.commandPrefix, lock, actor) } });
    return { lock, notified: true };
  })();
}

function field(req: Request, name: string): unknown {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

export function unlockHandler(ctx: UnlockContext): (req: Request, res: Response) => void {
  return function unlock(req, res): void {
    const key = req.params['key'] as string;
    const user = webUser(res);
    const log = ctx.log.child({ route: 'POST /locks/:key/unlock', key, user });
    if (!sameOrigin(req)) {
      log.warn({ origin: req.header('origin') ?? null }, 'cross-site unlock refused');
      sendPage(res, 403, messagePage(ctx.chrome(res, 'Refused'), 'Refused', 'This request came from another site, so nothing was changed.'));
      return;
    }
    const csrf = checkCsrf(ctx.csrfSecret, user, unlockAction(key), field(req, 'csrf'));
    if (csrf !== 'ok') {
      log.warn({ csrf }, 'unlock refused: bad CSRF token');
      sendPage(res, 403, messagePage(ctx.chrome(res, 'Refused'), 'Refused', CSRF_MESSAGES[csrf]));
      return;
    }
    const lock = getLock(ctx.db, key);
    if (lock === null) {
      setFlash(res, ctx.csrfSecret, { kind: 'error', text: `No lock is held for ${key}: it was already released.` });
      res.redirect(303, '/');
      return;
    }
    if (field(req, 'confirm') !== 'yes') {
      sendPage(res, 200, confirmUnlockPage(ctx.chrome(res, 'Confirm unlock'), lock, csrfToken(ctx.csrfSecret, user, unlockAction(key)), new Date()));
      return;
    }
    const actor = webActor(user);
    const { lock: released, notified } = releaseFromWeb(ctx, key, actor);
    if (released === null) {
      setFlash(res, ctx.csrfSecret, { kind: 'error', text: `No lock is held for ${key}: it was already released.` });
      res.redirect(303, '/');
      return;
    }
    if (notified) ctx.notify();
    log.info({ repo: released.repo, pull: released.pull, actor, notified }, 'lock released from the web UI');
    setFlash(res, ctx.csrfSecret, { kind: 'ok', text: `Released the lock of ${released.repo} ${projectLabel(released)} (workspace ${released.workspace}) held by #${released.pull}.` });
    res.redirect(303, '/');
  };
}
