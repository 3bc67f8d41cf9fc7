// The `installation` and `installation_repositories` webhooks GitHub sends the App, built from
// GitHub's examples (@octokit/webhooks-examples) with the double's App, account and repositories.

import { asObject, type JsonObject } from './openapi-document.js';
import { APP_PERMISSIONS } from './rest-app.js';
import { rehost } from './rest-resources.js';
import { repoKey } from './state.js';
import type { AppRecord, InstallationAction, InstallationRecord, InstallationRepositoriesAction, RepoRecord } from './types.js';
import { webhookUser, type PayloadContext } from './webhook-payloads.js';

export function installationPayload(
  ctx: PayloadContext,
  app: AppRecord,
  installation: InstallationRecord,
  repos: RepoRecord[],
  action: InstallationAction,
): JsonObject {
  const example = ctx.examples.installation.get(action);
  if (example === undefined) throw new Error(`webhook examples hold no installation.${action}`);
  const payload = base(ctx, example, app, installation);
  payload['repositories'] = repos.map(repositoryRef);
  if (action === 'suspend' && installation.suspendedAt === null) throw new Error(`GitHub double: installation ${installation.id} is not suspended (suspendInstallation first)`);
  if (action === 'unsuspend' && installation.suspendedAt !== null) throw new Error(`GitHub double: installation ${installation.id} is still suspended (unsuspendInstallation first)`);
  if (installation.suspendedBy !== null) {
    // Who suspended it sends the delivery, as in GitHub's example (suspended_by is the sender).
    const suspender = webhookUser(ctx, asObject(example['sender']), installation.suspendedBy);
    Object.assign(asObject(payload['installation']), { suspended_at: installation.suspendedAt, suspended_by: suspender });
    payload['sender'] = structuredClone(suspender);
  }
  if (action === 'created' && !('requester' in payload)) payload['requester'] = null;
  return payload;
}

export function installationRepositoriesPayload(
  ctx: PayloadContext,
  app: AppRecord,
  installation: InstallationRecord,
  repos: RepoRecord[],
  action: InstallationRepositoriesAction,
): JsonObject {
  const example = ctx.examples.installationRepositories.get(action);
  if (example === undefined) throw new Error(`webhook examples hold no installation_repositories.${action}`);
  const payload = base(ctx, example, app, installation);
  payload['repository_selection'] = 'selected';
  payload['repositories_added'] = action === 'added' ? repos.map(repositoryRef) : [];
  payload['repositories_removed'] = action === 'removed' ? repos.map(repositoryRef) : [];
  return payload;
}

/** The repositories `installation` holds, as records. */
export function installationRepos(repos: Map<string, RepoRecord>, installation: InstallationRecord): RepoRecord[] {
  return [...installation.repos].map((key) => repos.get(key)).filter((repo): repo is RepoRecord => repo !== undefined);
}

export function reposNamed(repos: Map<string, RepoRecord>, names: string[]): RepoRecord[] {
  return names.map((name) => {
    const repo = repos.get(repoKey(name));
    if (repo === undefined) throw new Error(`GitHub double: no repository ${name}`);
    return repo;
  });
}

function base(ctx: PayloadContext, example: JsonObject, app: AppRecord, installation: InstallationRecord): JsonObject {
  const payload = structuredClone(example);
  rehost(payload, ctx.url, null);
  const template = asObject(payload['installation']);
  const accountTemplate = asObject(template['account']);
  const account = webhookUser(ctx, accountTemplate, installation.account);
  payload['installation'] = Object.assign(template, {
    id: installation.id,
    account,
    repository_selection: 'selected',
    access_tokens_url: `${ctx.url}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${ctx.url}/installation/repositories`,
    html_url: `${ctx.url}/settings/installations/${installation.id}`,
    app_id: app.id,
    app_slug: app.slug,
    target_id: account['id'] ?? 0,
    target_type: 'User',
    permissions: APP_PERMISSIONS,
    events: ['issue_comment', 'pull_request'],
    created_at: installation.createdAt,
    updated_at: installation.updatedAt,
    single_file_name: null,
    suspended_at: null,
    suspended_by: null,
  });
  payload['sender'] = webhookUser(ctx, accountTemplate, installation.account);
  return payload;
}

function repositoryRef(repo: RepoRecord): JsonObject {
  return {
    id: repo.id,
    node_id: Buffer.from(`010:Repository${repo.id}`).toString('base64'),
    name: repo.name,
    full_name: repo.fullName,
    private: true,
  };
}
