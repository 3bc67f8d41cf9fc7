import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureInside, PathEscapeError } from '../../server/workspace/ensure-inside.js';

const root = mkdtempSync(join(tmpdir(), 'tideline-inside-'));
mkdirSync(join(root, 'app', 'sub'), { recursive: true });
symlinkSync('/etc', join(root, 'sneaky'));
symlinkSync(join(root, 'app'), join(root, 'alias'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ensureInside', () => {
  it.each(['.', 'app', 'app/sub', 'app/../app', 'alias', 'not-yet'])('accepts %s', (p) => {
    expect(() => ensureInside(root, p)).not.toThrow();
  });
  it.each(['..', '../x', 'app/../../x', '/etc', 'sneaky', 'sneaky/passwd', 'a\0b'])('refuses %s', (p) => {
    expect(() => ensureInside(root, p)).toThrow(PathEscapeError);
  });
});
