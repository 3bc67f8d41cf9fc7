// Numbered schema migrations. A migration is never edited once it has shipped: add a new one.
// `user_version` records how far a database has come.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'locks, jobs, plans, deliveries',
    sql: `
      CREATE TABLE deliveries (
        id          TEXT PRIMARY KEY,
        event       TEXT NOT NULL,
        received_at TEXT NOT NULL
      ) STRICT;

      -- One row per locked project. The primary key is the lock: taking it is one INSERT.
      CREATE TABLE locks (
        key        TEXT PRIMARY KEY,
        repo       TEXT NOT NULL,
        dir        TEXT NOT NULL,
        workspace  TEXT NOT NULL,
        project    TEXT NOT NULL DEFAULT '',
        kind       TEXT NOT NULL DEFAULT 'terraform',
        pull       INTEGER NOT NULL,
        pull_url   TEXT NOT NULL DEFAULT '',
        locked_by  TEXT NOT NULL,
        locked_at  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX locks_by_pull ON locks (repo, pull);

      CREATE TABLE jobs (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        type         TEXT NOT NULL,
        repo         TEXT NOT NULL,
        pull         INTEGER,
        -- jobs with the same serial key never run at once (one PR's working tree)
        serial_key   TEXT NOT NULL,
        payload      TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','interrupted')),
        created_at   TEXT NOT NULL,
        started_at   TEXT,
        finished_at  TEXT,
        error        TEXT
      ) STRICT;
      CREATE INDEX jobs_by_state ON jobs (state, id);

      -- The saved plan of one project of one PR, valid only for the head SHA it was made from.
      CREATE TABLE plans (
        repo        TEXT NOT NULL,
        pull        INTEGER NOT NULL,
        project_key TEXT NOT NULL,
        dir         TEXT NOT NULL,
        workspace   TEXT NOT NULL,
        project     TEXT NOT NULL DEFAULT '',
        kind        TEXT NOT NULL,
        -- the whole project as planned (requirements, workflow, order), so apply uses exactly it
        project_json TEXT NOT NULL DEFAULT '{}',
        head_sha    TEXT NOT NULL,
        plan_file   TEXT NOT NULL,
        summary     TEXT,
        has_changes INTEGER NOT NULL,
        applied_at  TEXT,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (repo, pull, project_key)
      ) STRICT;
    `,
  },
];
