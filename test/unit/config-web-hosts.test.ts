// TIDELINE_WEB_HOSTS: the host names the web UI answers to besides IP addresses, localhost and
// TIDELINE_URL's host, for a proxy that rewrites Host. Read as exact names; every malformed
// entry is reported at once, with the fix.

import { describe, expect, it } from 'vitest';
import { formatProblems, readEnv } from '../../config/read-env.js';
import type { ConfigProblem, ReadEnvResult, Settings } from '../../config/settings.js';

const FILE = '/etc/tideline/config.yaml';
const BASE = { TIDELINE_WEBHOOK_SECRET: 'webhook-secret-1', TIDELINE_GITHUB_TOKEN: 'ghp_token123456', TIDELINE_REPO_ALLOWLIST: 'acme/*' } as const;

function read(env: Record<string, string>, yaml?: string): ReadEnvResult {
  return readEnv(yaml === undefined ? env : { ...env, TIDELINE_CONFIG: FILE }, {
    cwd: '/srv/tideline',
    readFile: (path) => {
      if (path === FILE && yaml !== undefined) return yaml;
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    },
    checkDataDir: () => null,
  });
}

function settingsOf(result: ReadEnvResult): Settings {
  if (!result.ok) throw new Error(`expected settings, got problems:\n${formatProblems(result.problems)}`);
  return result.settings;
}

function problemsOf(result: ReadEnvResult): ConfigProblem[] {
  if (result.ok) throw new Error('expected problems, got settings');
  return result.problems;
}

describe('TIDELINE_WEB_HOSTS', () => {
  it('is empty when unset', () => {
    expect(settingsOf(read(BASE)).webHosts).toEqual([]);
  });

  it.each([
    ['one name', 'tideline.internal', ['tideline.internal']],
    ['names lowercased, trimmed, without a trailing dot, once each', ' Tideline.Internal , tideline-upstream,proxy.example.com.,tideline.internal', ['tideline.internal', 'tideline-upstream', 'proxy.example.com']],
    ['a compose service name with an underscore', 'tideline_web', ['tideline_web']],
    ['IP addresses, though they are always accepted', '10.0.0.5,[::1]', ['10.0.0.5', '[::1]']],
  ])('reads %s', (_what, value, expected) => {
    expect(settingsOf(read({ ...BASE, TIDELINE_WEB_HOSTS: value })).webHosts).toEqual(expected);
  });

  it.each([
    ['https://tideline.example.com/ui', /entry `https:\/\/tideline.example.com\/ui`, which is a URL, not a host name: write `tideline.example.com`/],
    ['tideline.internal:8080', /entry `tideline.internal:8080`, which has a port: drop it and write `tideline.internal` \(every port is accepted\)/],
    ['*.example.com', /entry `\*.example.com`, a wildcard: list each name in full/],
    ['tidéline.example', /entry `tidéline.example`, which is not ASCII: write it as browsers send it: `xn--tidline-dya.example`/],
    ['tide line', /entry `tide line`, which is not a host name: use letters, digits/],
    ['tideline..internal', /entry `tideline..internal`, which is not a host name/],
    ['-tideline.internal', /entry `-tideline.internal`, which is not a host name/],
    [',', /lists no host names: give the names the web UI is reached by/],
  ])('refuses %j, naming the fix', (value, message) => {
    const problems = problemsOf(read({ ...BASE, TIDELINE_WEB_HOSTS: value }));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.variable).toBe('TIDELINE_WEB_HOSTS');
    expect(problems[0]?.message).toMatch(message);
  });

  it('reports every bad entry at once', () => {
    const problems = problemsOf(read({ ...BASE, TIDELINE_WEB_HOSTS: 'good.example,bad:1,http://worse/' }));
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('`bad:1`'), expect.stringContaining('`http://worse/`')]);
  });

  it('reads web_hosts from the config file, as a list or a comma-separated string', () => {
    expect(settingsOf(read(BASE, 'web_hosts: [tideline.internal, tideline-upstream]\n')).webHosts).toEqual(['tideline.internal', 'tideline-upstream']);
    expect(settingsOf(read(BASE, 'web_hosts: tideline.internal,tideline-upstream\n')).webHosts).toEqual(['tideline.internal', 'tideline-upstream']);
  });

  it('says a list item in the file must be a host name, not an owner/repo glob', () => {
    const [problem, ...more] = problemsOf(read(BASE, 'web_hosts:\n  - { name: tideline.internal }\n'));
    expect(more).toEqual([]);
    expect(problem?.variable).toBe(`web_hosts in ${FILE} line 1`);
    expect(problem?.message).toBe('must be a list of host names: write it like `[tideline.internal, tideline-upstream]`');
    expect(problemsOf(read({ ...BASE, TIDELINE_REPO_ALLOWLIST: '' }, 'repo_allowlist:\n  - [acme/*]\n'))[0]?.message).toBe(
      'must be a list of owner/repo globs: write it like `[acme/*, other/infra]`',
    );
  });
});
