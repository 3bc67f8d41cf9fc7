// The App's own endpoints: who the App is (GET /app), which installation holds a repository
// (GET /repos/{owner}/{repo}/installation) and installation tokens (POST
// /app/installations/{installation_id}/access_tokens). rest-server has checked the JWT.

import { liveInstallationOf, mintInstallationToken, requireApp } from './app-installations.js';
import { type JsonObject } from './openapi-document.js';
import { exampleObject, rehost, userObject, type RestContext } from './rest-resources.js';
import { asBody, notFound, ok, repoOf, type Handler, type HandlerContext, type HandlerRequest, type HandlerResponse } from './rest-handlers.js';
import { repoKey } from './state.js';
import type { InstallationRecord } from './types.js';

/** What the double's App asks for: the repository permissions the README lists for Tideline. */
export const APP_PERMISSIONS: JsonObject = {
  contents: 'write',
  pull_requests: 'write',
  issues: 'write',
  statuses: 'write',
  metadata: 'read',
};

const APP_EVENTS = ['issue_comment', 'pull_request'];

const TOKEN_DOCS = 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app';

export function appHandlers(): [string, Handler][] {
  return [
    ['apps/get-authenticated', getAuthenticatedApp],
    ['apps/get-repo-installation', getRepoInstallation],
    ['apps/create-installation-access-token', createInstallationToken],
  ];
}

async function getAuthenticatedApp(ctx: HandlerContext): Promise<HandlerResponse> {
  const app = requireApp(ctx.state);
  const base = exampleObject(ctx, 'apps/get-authenticated');
  rehost(base, ctx.state.url, null);
  return ok(
    Object.assign(base, {
      id: app.id,
      slug: app.slug,
      client_id: app.clientId,
      node_id: Buffer.from(`03:Integration${app.id}`).toString('base64'),
      name: app.name,
      description: 'The GitHub double stands in for this App.',
      html_url: `${ctx.state.url}/apps/${app.slug}`,
      external_url: `${ctx.state.url}/apps/${app.slug}`,
      owner: userObject(ctx, 'acme'),
      permissions: APP_PERMISSIONS,
      events: APP_EVENTS,
      created_at: app.createdAt,
      updated_at: app.createdAt,
      installations_count: [...ctx.state.installations.values()].filter((i) => i.deletedAt === null).length,
    }),
  );
}

async function getRepoInstallation(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  const installation = repo === undefined ? undefined : liveInstallationOf(ctx.state, repo.fullName);
  if (installation === undefined) return notFound();
  return ok(installationObject(ctx, installation));
}

async function createInstallationToken(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const installation = ctx.state.installations.get(Number(req.params['installation_id']));
  if (installation === undefined || installation.deletedAt !== null) return notFound();
  // GitHub's answer as reported in octokit/octokit.rb#1307 and matched by its InstallationSuspended.
  if (installation.suspendedAt !== null) return { status: 403, body: { message: 'This installation has been suspended', documentation_url: TOKEN_DOCS, status: '403' } };
  const body = asBody(req);
  const names = Array.isArray(body['repositories']) ? body['repositories'].map(String) : [];
  const account = installation.account;
  if (names.some((name) => !installation.repos.has(repoKey(`${account}/${name}`)))) {
    return {
      status: 422,
      body: {
        message: 'There is at least one repository that does not exist or is not accessible to the parent installation.',
        documentation_url: TOKEN_DOCS,
        status: '422',
      },
    };
  }
  const { token, expiresAt } = mintInstallationToken(ctx.state, installation);
  return { status: 201, body: { token, expires_at: expiresAt, permissions: APP_PERMISSIONS, repository_selection: 'selected' } };
}

export function installationObject(ctx: RestContext, installation: InstallationRecord): JsonObject {
  const app = requireApp(ctx.state);
  const base = exampleObject(ctx, 'apps/get-repo-installation');
  rehost(base, ctx.state.url, null);
  const account = userObject(ctx, installation.account);
  return Object.assign(base, {
    id: installation.id,
    account,
    repository_selection: 'selected',
    access_tokens_url: `${ctx.state.url}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${ctx.state.url}/installation/repositories`,
    html_url: `${ctx.state.url}/settings/installations/${installation.id}`,
    app_id: app.id,
    app_slug: app.slug,
    client_id: app.clientId,
    target_id: account['id'] ?? 0,
    target_type: 'User',
    permissions: APP_PERMISSIONS,
    events: APP_EVENTS,
    created_at: installation.createdAt,
    updated_at: installation.updatedAt,
    single_file_name: null,
    suspended_by: installation.suspendedBy === null ? null : userObject(ctx, installation.suspendedBy),
    suspended_at: installation.suspendedAt,
  });
}
