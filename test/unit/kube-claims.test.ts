import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimedByOthers, rememberApplied } from '../../server/jobs/kube-applied.js';
import { openDb, type Db } from '../../server/store/db.js';

const legacy = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'legacy' };
const other = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'other' };

describe('claimedByOthers', () => {
  let db: Db;
  let dir: string;

  beforeEach(() => {
    db = openDb({ dataDir: ':memory:' });
    dir = mkdtempSync(join(tmpdir(), 'tideline-claims-'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function savePlanRow(projectKey: string, cluster: string | undefined, yaml: string): void {
    const file = join(dir, `${projectKey.replace(/\W/g, '_')}.yaml`);
    writeFileSync(file, yaml);
    const project = { dir: 'k8s', workspace: 'default', kind: 'kubernetes', ...(cluster === undefined ? {} : { kubernetes: { cluster } }) };
    db.prepare(
      `INSERT INTO plans (repo, pull, project_key, dir, workspace, project, kind, project_json, head_sha, plan_file, summary, has_changes, shown, applied_at, created_at)
       VALUES ('acme/x', 1, ?, 'k8s', 'default', '', 'kubernetes', ?, 'abc', ?, NULL, 1, 1, NULL, 'now')`,
    ).run(projectKey, JSON.stringify(project), file);
  }

  it('counts only projects on the same cluster, and rows of unknown cluster everywhere', () => {
    rememberApplied(db, 'acme/x', 'acme/x/prod', 1, [legacy], 'prod');
    rememberApplied(db, 'acme/x', 'acme/x/staging-2', 1, [other], 'staging');
    db.prepare("INSERT INTO kube_applied (project_key, repo, objects, applied_by, updated_at) VALUES ('acme/x/old', 'acme/x', ?, 1, 'then')").run(JSON.stringify([other]));
    expect(claimedByOthers(db, 'acme/x/staging', 'staging').applied).toEqual([other, other]);
    expect(claimedByOthers(db, 'acme/x/staging', 'prod').applied).toEqual([legacy, other]);
  });

  it('reads the saved, unapplied plans of other projects on the same cluster, and never the project\'s own', () => {
    const bundle = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: legacy\n  namespace: default\ndata:\n  k: v\n';
    savePlanRow('acme/x/prod', 'prod', bundle);
    savePlanRow('acme/x/default-cluster', undefined, bundle);
    expect(claimedByOthers(db, 'acme/x/staging', 'staging').planned).toEqual([]);
    expect(claimedByOthers(db, 'acme/x/staging', 'prod').planned).toEqual([legacy]);
    expect(claimedByOthers(db, 'acme/x/staging', '').planned).toEqual([legacy]);
    expect(claimedByOthers(db, 'acme/x/prod', 'prod').planned).toEqual([]);
  });
});
