// TIDELINE_TERRAFORM_BIN / TIDELINE_KUBECTL_BIN: set explicitly, they must name a program the
// server user can run, checked with every other setting; left at their defaults they stay
// optional, since an install may serve only one kind of project.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnv } from '../../config/read-env.js';
import type { ConfigProblem, ReadEnvResult } from '../../config/settings.js';
import { commandProblem } from '../../config/tool-bin.js';

const dir = mkdtempSync(join(tmpdir(), 'tideline-tool-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bin = join(dir, 'bin');
mkdirSync(bin);
mkdirSync(join(bin, 'kubectl-dir'));

function file(name: string, mode: number): string {
  const path = join(bin, name);
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, mode);
  return path;
}
const terraform = file('terraform-1.9', 0o755);
const notExecutable = file('kubectl-noexec', 0o644);

const BASE = { TIDELINE_WEBHOOK_SECRET: 'whs-1', TIDELINE_GITHUB_TOKEN: 'ghp_1234', TIDELINE_REPO_ALLOWLIST: 'acme/*', PATH: bin };

function read(env: Record<string, string>): ReadEnvResult {
  return readEnv({ ...BASE, ...env }, { cwd: dir, checkDataDir: () => null });
}

function problemsOf(result: ReadEnvResult): ConfigProblem[] {
  if (result.ok) throw new Error('expected problems, got settings');
  return result.problems;
}

describe('explicitly set tool binaries', () => {
  it('leaves the defaults unchecked: a Kubernetes-only install has no terraform', () => {
    expect(read({ PATH: join(dir, 'empty') }).ok).toBe(true);
  });

  it('accepts an executable path, a relative path and a name on PATH', () => {
    expect(read({ TIDELINE_TERRAFORM_BIN: terraform, TIDELINE_KUBECTL_BIN: 'terraform-1.9' }).ok).toBe(true);
    expect(read({ TIDELINE_TERRAFORM_BIN: './bin/terraform-1.9' }).ok).toBe(true);
  });

  it.each([
    ['TIDELINE_TERRAFORM_BIN', '/nope/terraform', 'names /nope/terraform, which does not exist: point it at the terraform binary, or unset it to use `terraform` from PATH (only Terraform projects need it)'],
    ['TIDELINE_KUBECTL_BIN', notExecutable, `names ${notExecutable}, which the server user cannot execute (EACCES): point it at the kubectl binary, or unset it to use \`kubectl\` from PATH (only Kubernetes projects need it)`],
    ['TIDELINE_KUBECTL_BIN', join(bin, 'kubectl-dir'), `names ${join(bin, 'kubectl-dir')}, which is not a file: point it at the kubectl binary`],
    ['TIDELINE_KUBECTL_BIN', 'kubectl-1.32', `names kubectl-1.32, which is not on PATH (${bin}): point it at the kubectl binary`],
    ['TIDELINE_KUBECTL_BIN', 'kubectl-noexec', `names kubectl-noexec, found on PATH as ${notExecutable}, which the server user cannot execute (EACCES): point it at`],
  ])('stops start-up when %s=%s cannot be run, naming the path and the fix', (variable, value, message) => {
    const problems = problemsOf(read({ [variable]: value }));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.variable).toBe(variable);
    expect(problems[0]?.message.startsWith(message)).toBe(true);
  });

  it('reports both binaries with every other problem at once', () => {
    const problems = problemsOf(read({ TIDELINE_TERRAFORM_BIN: '/nope/terraform', TIDELINE_KUBECTL_BIN: '/nope/kubectl', TIDELINE_PORT: 'x' }));
    expect(problems.map((p) => p.variable).sort()).toEqual(['TIDELINE_KUBECTL_BIN', 'TIDELINE_PORT', 'TIDELINE_TERRAFORM_BIN']);
  });

  it('names the config file key when the file set it, resolving against the file', () => {
    const config = join(dir, 'tideline.yaml');
    writeFileSync(config, 'terraform_bin: ./bin/no-terraform\n');
    const [problem, ...more] = problemsOf(read({ TIDELINE_CONFIG: config }));
    expect(more).toEqual([]);
    expect(problem?.variable).toBe(`terraform_bin in ${config} line 1`);
    expect(problem?.message).toMatch(new RegExp(`^names ${join(bin, 'no-terraform')}, which does not exist: `));
  });

  it('says PATH is unset when a bare name cannot be looked up', () => {
    expect(commandProblem('kubectl', undefined)).toBe('which cannot be looked up: PATH is not set');
  });
});
