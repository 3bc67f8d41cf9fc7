import { describe, expect, it } from 'vitest';
import { DEFAULT_DRIFT_SETTINGS, parseDriftSettings } from '../../config/drift-settings.js';

const FILE = '/etc/tideline.yaml';

describe('drift section of the server config', () => {
  it.each([
    ['an empty file', ''],
    ['a file without a drift section', 'port: 4141\nrepos:\n  - id: acme/infra\n'],
    ['an empty drift section', 'drift: {}\n'],
  ])('gives the defaults for %s', (_name, text) => {
    expect(parseDriftSettings(text, FILE)).toEqual({ ok: true, settings: DEFAULT_DRIFT_SETTINGS });
  });

  it('reads each alert switch, the lock timeout and remediation', () => {
    const text = ['drift:', '  alerts:', '    issues: false', '    pr_comment: true', '    webhook: false', '    commit_status: false', '  lock_timeout: 5m', '  remediate: true', ''].join('\n');
    expect(parseDriftSettings(text, FILE)).toEqual({
      ok: true,
      settings: { alerts: { issues: false, prComment: true, webhook: false, commitStatus: false }, lockTimeout: '5m', remediate: true },
    });
  });

  it.each([
    ['a misspelt alert', 'drift:\n  alerts:\n    issue: false\n', 'drift.alerts.issue in /etc/tideline.yaml line 3', 'did you mean `issues`?'],
    ['a duration terraform would not take', 'drift:\n  lock_timeout: soon\n', 'drift.lock_timeout in /etc/tideline.yaml line 2', 'e.g. "60s"'],
    ['a switch that is not a boolean', 'drift:\n  remediate: maybe\n', 'drift.remediate in /etc/tideline.yaml line 2', 'write true or false'],
    ['a section that is not a mapping', 'drift: yes\n', 'drift in /etc/tideline.yaml line 1', 'not a mapping'],
  ])('refuses %s, naming where and the fix', (_name, text, variable, fix) => {
    const parsed = parseDriftSettings(text, FILE);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]?.variable).toBe(variable);
    expect(parsed.problems[0]?.message).toContain(fix);
  });
});
