// The repositories the server serves: remembered from accepted webhooks.

import type { Db } from './db.js';
import { nowIso } from './db.js';

export interface KnownRepo {
  fullName: string;
  owner: string;
  name: string;
  cloneUrl: string;
  defaultBranch: string;
}

export function rememberRepo(db: Db, repo: KnownRepo): void {
  const now = nowIso();
  db.prepare(
    `INSERT INTO repos (full_name, owner, name, clone_url, default_branch, first_seen, last_seen)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (full_name) DO UPDATE SET clone_url = excluded.clone_url,
       default_branch = excluded.default_branch, last_seen = excluded.last_seen`,
  ).run(repo.fullName, repo.owner, repo.name, repo.cloneUrl, repo.defaultBranch, now, now);
}

export function knownRepos(db: Db): KnownRepo[] {
  const rows = db.prepare('SELECT full_name, owner, name, clone_url, default_branch FROM repos ORDER BY full_name').all() as {
    full_name: string;
    owner: string;
    name: string;
    clone_url: string;
    default_branch: string;
  }[];
  return rows.map((r) => ({ fullName: r.full_name, owner: r.owner, name: r.name, cloneUrl: r.clone_url, defaultBranch: r.default_branch }));
}
