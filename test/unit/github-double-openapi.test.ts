import { beforeAll, describe, expect, it } from 'vitest';
import { createRequestChecker, matchOperation } from '../../sandbox/github/openapi-check.js';
import { loadOpenApiDocument, type OpenApiDocument } from '../../sandbox/github/openapi-document.js';

describe("GitHub double's OpenAPI matcher", () => {
  let api: OpenApiDocument;

  beforeAll(async () => {
    api = await loadOpenApiDocument();
  });

  it('indexes every operation of the description', () => {
    expect(api.byId.size).toBeGreaterThan(1000);
    expect(api.byId.get('pulls/list-files')?.template).toBe('/repos/{owner}/{repo}/pulls/{pull_number}/files');
  });

  it('resolves each operation template back to itself (literals beat parameters)', () => {
    const mismatches: string[] = [];
    for (const [method, entries] of api.operations) {
      for (const entry of entries) {
        const path = entry.template.replace(/\{([^}]+)\}/g, (_all, name: string) => {
          const param = entry.pathParams.find((candidate) => candidate.name === name);
          return param?.schema['type'] === 'integer' ? '7' : `x${name}`;
        });
        const found = matchOperation(api, method, path);
        if (found?.entry.template !== entry.template) mismatches.push(`${method} ${path} -> ${found?.entry.template}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it.each([
    ['GET', '/repos/o/r/pulls/comments', 'pulls/list-review-comments-for-repo', {}],
    ['GET', '/repos/o/r/pulls/12', 'pulls/get', { pull_number: '12' }],
    ['GET', '/repos/o/r/commits/heads%2Fmain/status', 'repos/get-combined-status-for-ref', { ref: 'heads/main' }],
    ['GET', '/repos/o/r/commits/feature/x/statuses', 'repos/list-commit-statuses-for-ref', { ref: 'feature/x' }],
    ['GET', '/repos/o/r/compare/main...topic', 'repos/compare-commits', { base: 'main', head: 'topic' }],
  ])('%s %s is %s', (method, path, operationId, params) => {
    const found = matchOperation(api, method, path);
    expect(found?.entry.operationId).toBe(operationId);
    expect(found?.params).toMatchObject(params);
  });

  it('rewrites nullable-without-type so Ajv accepts null there and still checks the rest', () => {
    const checker = createRequestChecker(api);
    // issues/update's `milestone` is `{ oneOf: [string, integer], nullable: true }`, no `type`.
    const update = (body: Record<string, unknown>): boolean =>
      checker.check({ method: 'PATCH', pathname: '/repos/o/r/issues/1', query: new URLSearchParams(), body: body as never }).ok;
    expect(update({ milestone: null })).toBe(true);
    expect(update({ milestone: 3 })).toBe(true);
    expect(update({ milestone: true })).toBe(false);
    const status = (body: Record<string, unknown>): boolean =>
      checker.check({ method: 'POST', pathname: '/repos/o/r/statuses/abc', query: new URLSearchParams(), body: body as never }).ok;
    expect(status({ state: 'success', target_url: null, description: null })).toBe(true);
    expect(status({ state: 'success', target_url: 7 })).toBe(false);
    expect(status({})).toBe(false);
  });

  it('names the body fields an operation does not declare, which GitHub ignores without a word', () => {
    const checker = createRequestChecker(api);
    const undeclared = (method: string, pathname: string, body: Record<string, unknown>): string[] | null => {
      const checked = checker.check({ method, pathname, query: new URLSearchParams(), body: body as never });
      return checked.ok ? checked.undeclared : null;
    };
    expect(undeclared('POST', '/repos/o/r/statuses/abc', { state: 'success', descripton: 'typo', context: 'c' })).toEqual(['descripton']);
    expect(undeclared('POST', '/repos/o/r/statuses/abc', { state: 'success', description: 'd', target_url: null })).toEqual([]);
    expect(undeclared('PUT', '/repos/o/r/pulls/1/merge', { sha: 'abc', merge_method: 'merge', merge_methd: 'squash' })).toEqual(['merge_methd']);
    expect(undeclared('PATCH', '/repos/o/r/issues/1', { title: 't', state: 'closed', state_reason: 'completed' })).toEqual([]);
  });
});
