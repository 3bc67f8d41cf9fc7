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
  {
    version: 2,
    name: 'audit log',
    // The append-only, hash-chained audit log (server/audit/). `hash` = sha256(prev_hash ‖
    // canonical JSON of the record); `fields` holds canonical JSON. Triggers make the table
    // append-only for everything that goes through SQLite:
    //  - UPDATE is always refused;
    //  - INSERT is refused unless it goes after the current head (no rows slipped in between);
    //  - DELETE is refused unless `audit_prune_permit` holds a row whose `up_to_seq` covers the
    //    row being deleted. Retention pruning (pruneAudit) inserts that permit, deletes, removes
    //    the permit and appends an `audit.pruned` record, all in one transaction, so no permit
    //    is ever visible to another connection and a crash rolls it back.
    // The permit does not stop someone with raw write access to the database file: they can
    // insert a permit, or simply drop the triggers. Nothing inside SQLite can stop that. The
    // protection against them is the hash chain (edits, deletions, insertions and reorderings
    // show up in `tideline audit verify`) together with checkpoints kept outside the server
    // (`tideline audit checkpoint`, signed with Ed25519) and the audit webhook's external copy,
    // which catch a rewritten or truncated tail.
    sql: `
      CREATE TABLE audit (
        seq           INTEGER PRIMARY KEY,
        time          TEXT NOT NULL,
        type          TEXT NOT NULL,
        actor         TEXT NOT NULL,
        repo          TEXT,
        pull          INTEGER,
        project       TEXT,
        config_digest TEXT NOT NULL,
        fields        TEXT NOT NULL,
        prev_hash     TEXT NOT NULL,
        hash          TEXT NOT NULL
      ) STRICT;
      -- verify looks records up by hash when the chain breaks; a sound chain never repeats one.
      CREATE UNIQUE INDEX audit_by_hash ON audit (hash);
      -- export filters: each ends in seq so a filtered export streams in seq order with no sort.
      CREATE INDEX audit_by_time ON audit (time);
      CREATE INDEX audit_by_repo ON audit (repo, seq);
      CREATE INDEX audit_by_actor ON audit (actor, seq);
      CREATE INDEX audit_by_type ON audit (type, seq);

      CREATE TABLE audit_prune_permit (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        up_to_seq INTEGER NOT NULL
      ) STRICT;

      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
      BEGIN
        SELECT RAISE(ABORT, 'audit records are append-only: UPDATE is refused');
      END;

      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
      WHEN NOT EXISTS (SELECT 1 FROM audit_prune_permit WHERE OLD.seq <= up_to_seq)
      BEGIN
        SELECT RAISE(ABORT, 'audit records are append-only: DELETE is refused (retention pruning goes through pruneAudit)');
      END;

      CREATE TRIGGER audit_append_only BEFORE INSERT ON audit
      WHEN NEW.seq <= (SELECT COALESCE(MAX(seq), 0) FROM audit)
      BEGIN
        SELECT RAISE(ABORT, 'audit records are append-only: INSERT must go after the last record');
      END;
    `,
  },
  {
    version: 3,
    name: 'repositories the server serves',
    // Every allowed repository a webhook has come from, so scheduled work (drift sweeps) knows
    // what to fetch without a GitHub listing.
    sql: `
      CREATE TABLE repos (
        full_name      TEXT PRIMARY KEY,
        owner          TEXT NOT NULL,
        name           TEXT NOT NULL,
        clone_url      TEXT NOT NULL,
        default_branch TEXT NOT NULL,
        first_seen     TEXT NOT NULL,
        last_seen      TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'drift state and sweep bookkeeping',
    // Drift detection (server/drift/). `drift_projects`: the latest check of each project of a
    // default branch (key = the lock key: repo/dir/workspace/name) and its open drift alert: a
    // non-null `fingerprint` means drift is open (raised, not yet resolved), whatever the latest
    // check said — an error or a skip between two drifted checks neither raises nor resolves.
    // `drift_repos`: per repository, what its repo config said about drift at the last sweep, the
    // schedule the scheduler last applied to it (`effective_schedule`), the scheduler's
    // high-water mark (`last_tick`: every slot up to it has been handled, so a restart runs a
    // missed slot once), the last sweep's times, and the sweep lease that keeps two sweeps of one
    // repository apart (taken with one conditional UPDATE, expires if its holder dies).
    sql: `
      CREATE TABLE drift_projects (
        project_key   TEXT PRIMARY KEY,
        repo          TEXT NOT NULL,
        dir           TEXT NOT NULL,
        workspace     TEXT NOT NULL,
        project       TEXT NOT NULL DEFAULT '',
        kind          TEXT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('clean','drifted','error','skipped')),
        reason        TEXT,
        summary       TEXT,
        excerpt       TEXT,
        head_sha      TEXT,
        schedule      TEXT,
        fingerprint   TEXT,
        first_seen    TEXT,
        last_seen     TEXT,
        issue_number  INTEGER,
        issue_url     TEXT,
        remediated_at TEXT,
        last_checked  TEXT NOT NULL,
        last_changed  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX drift_projects_by_repo ON drift_projects (repo, project_key);

      CREATE TABLE drift_repos (
        repo               TEXT PRIMARY KEY,
        effective_schedule TEXT,
        config_schedule    TEXT,
        config_enabled     INTEGER,
        last_tick          TEXT,
        last_enqueued      TEXT,
        last_sweep_started TEXT,
        last_sweep_ended   TEXT,
        last_sweep_trigger TEXT,
        lease_owner        TEXT,
        lease_until        TEXT
      ) STRICT;
    `,
  },
  {
    version: 5,
    name: 'what each kubernetes project applied',
    // The objects a kubernetes project last applied (ApplyOutcome.remember), so a later plan
    // can show objects no longer in Git as prunes before they happen.
    sql: `
      CREATE TABLE kube_applied (
        project_key TEXT PRIMARY KEY,
        repo        TEXT NOT NULL,
        objects     TEXT NOT NULL,
        applied_by  INTEGER NOT NULL,
        updated_at  TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'pending commit statuses of running jobs',
    // Written before a job sends a pending status and deleted once it settles it, so a job a
    // killed process left running names the status the next start must settle.
    sql: `
      CREATE TABLE open_statuses (
        job_id    INTEGER NOT NULL,
        repo      TEXT NOT NULL,
        sha       TEXT NOT NULL,
        context   TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        PRIMARY KEY (job_id, context)
      ) STRICT;
    `,
  },
  {
    version: 7,
    name: 'plans not yet shown on their pull request',
    // A plan is saved as each project finishes, but people see it only once the reply is
    // posted; until then (a shutdown, a crash, a reply GitHub refused) apply must not take it.
    // Plans saved before this migration were shown.
    sql: `ALTER TABLE plans ADD COLUMN shown INTEGER NOT NULL DEFAULT 1;`,
  },
  {
    version: 8,
    name: 'the cluster each kubernetes project applied to',
    // What one project applied claims its objects from another project's prune only on the
    // same cluster ('' is the server's default). Rows from before this migration say NULL:
    // their cluster is unknown, so they claim on every cluster.
    sql: `ALTER TABLE kube_applied ADD COLUMN cluster TEXT;`,
  },
  {
    version: 9,
    name: 'audit: no REPLACE through the hash index',
    // `INSERT OR REPLACE INTO audit` of a new seq whose hash equals an existing record's passes
    // audit_append_only (the seq is after the head), and then the unique index audit_by_hash
    // makes SQLite delete the older record to make room. That delete fires no DELETE trigger
    // (it would only with PRAGMA recursive_triggers, which is per connection), so it removed a
    // record from the middle of the log past audit_no_delete. A BEFORE trigger runs before the
    // conflict is resolved, so refusing a hash already in the table closes that door for every
    // connection. A sound chain never repeats a hash, so no honest append is refused.
    sql: `
      CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
      WHEN EXISTS (SELECT 1 FROM audit WHERE hash = NEW.hash)
      BEGIN
        SELECT RAISE(ABORT, 'audit records are append-only: INSERT of a hash already in the log is refused');
      END;
    `,
  },
  {
    version: 10,
    name: 'comment parts a reply job has posted',
    // A reply job that a stop cut short runs again at the next start; it posts only the parts
    // of its comment that GitHub has not taken yet, so the pull request is told once.
    sql: `ALTER TABLE jobs ADD COLUMN parts_posted INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 11,
    name: 'what a plan or apply had done when its process stopped',
    // Written as the work goes, before any reply is posted, so a job a killed process left
    // running says at the next start what it did: `work_projects` (an apply: JSON list of the
    // projects it set out to apply, each with its result once it had one), `work_ended_at` and
    // `work_summary` (the run's terraform work was over, and the line its reply would begin
    // with). The pull request is then told what was applied, not "interrupted, plan again".
    sql: `
      ALTER TABLE jobs ADD COLUMN work_projects TEXT;
      ALTER TABLE jobs ADD COLUMN work_ended_at TEXT;
      ALTER TABLE jobs ADD COLUMN work_summary TEXT;
    `,
  },
  {
    version: 12,
    name: 'how a plan or apply came out, and whether its reply was posted',
    // `work_outcome` ('success' or 'failure', written with work_ended_at) is the final status the
    // run would set; `work_replied_at` is when its whole reply was posted. A job killed after
    // that has told its pull request everything: the next start sets the status it left pending
    // and posts nothing, instead of "Plan Not Posted: plan again" for a plan that was shown.
    sql: `
      ALTER TABLE jobs ADD COLUMN work_outcome TEXT;
      ALTER TABLE jobs ADD COLUMN work_replied_at TEXT;
    `,
  },
];
