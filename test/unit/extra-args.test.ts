import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { refuseOutsidePaths } from '../../server/workspace/extra-args.js';

const root = mkdtempSync(join(tmpdir(), 'tideline-args-'));
mkdirSync(join(root, 'app'), { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('refuseOutsidePaths', () => {
  it.each([
    [['-var-file=prod.tfvars']],
    [['-var-file', '../shared/common.tfvars']],
    [['-var', 'x=../../etc/passwd']],
    [['-target=terraform_data.x', '-refresh=false']],
  ])('accepts %j', (args) => {
    expect(refuseOutsidePaths(root, join(root, 'app'), args)).toBeNull();
  });
  it.each([
    [['-var-file=/etc/passwd'], '/etc/passwd'],
    [['-var-file', '../../secrets.tfvars'], '../../secrets.tfvars'],
    [['--var-file=../../../x'], '../../../x'],
    [['-var-file'], 'needs a file'],
  ])('refuses %j', (args, named) => {
    expect(refuseOutsidePaths(root, join(root, 'app'), args)).toContain(named);
  });
});
