// Atlantis's `show` step and $SHOWFILE: a `show` step writes `terraform show -json` of the plan
// beside the plan file, and `run` steps see SHOWFILE pointing at it. As in Atlantis, nothing
// writes it unasked (show loads every provider's schema). Real terraform, offline, temp dirs.
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkflowStep } from '../../runners/types.js';
import { applyStep, exists, init, planStep, run, useWorkflowProject } from '../support/workflow-fixture.js';

const wf = useWorkflowProject();
const show: WorkflowStep = { kind: 'show' };

function showFile(): string {
  return path.join(path.dirname(wf.planFile), 'project.json');
}

async function planJson(): Promise<{ format_version: string; resource_changes: { address: string }[] }> {
  return JSON.parse(await readFile(showFile(), 'utf8')) as { format_version: string; resource_changes: { address: string }[] };
}

describe('$SHOWFILE', () => {
  it('is not written by the default plan, which runs no show', async () => {
    const outcome = await wf.plan(undefined);
    expect(outcome.result).toBe('changes');
    expect(await exists(showFile())).toBe(false);
  });

  it('is written by a show step after a plan step, beside the plan file, and kept out of the reply and the live output', async () => {
    const outcome = await wf.plan([init(), planStep(), show, run('echo "$SHOWFILE"; grep -o \'"address":"terraform_data.x"\' "$SHOWFILE" | head -n 1')]);
    expect(outcome.result).toBe('changes');
    expect(outcome.output).toContain(`${showFile()}\n"address":"terraform_data.x"\n`);
    expect((await planJson()).resource_changes.map((c) => c.address)).toEqual(['terraform_data.x']);
    expect(outcome.output).not.toContain('format_version');
    expect(wf.chunks.join('')).not.toContain('format_version');
  });

  it('is written by a show step after a plan a run step made, for the steps after it', async () => {
    const steps = [init(), run('terraform plan -input=false -no-color -out="$PLANFILE" >/dev/null'), show, run('grep -c terraform_data "$SHOWFILE"')];
    const outcome = await wf.plan(steps);
    expect(outcome.result).toBe('changes');
    expect(outcome.output.trim()).toBe('1');
    expect((await planJson()).format_version).toMatch(/^\d/);
  });

  it('can be written by a show step in an apply stage, from the plan being applied', async () => {
    expect((await wf.plan(undefined)).result).toBe('changes');
    await writeFile(showFile(), 'stale');
    const outcome = await wf.apply([show, run('head -c 1 "$SHOWFILE"; echo'), applyStep()]);
    expect(outcome.result).toBe('applied');
    expect(outcome.output).toMatch(/^\{\n/);
  });

  it('is mode 0600 over a file an earlier step left, and is not written through a symlink there', async () => {
    // The JSON holds the plan's sensitive values in the clear (show -json does not redact them).
    expect((await wf.plan(undefined)).result).toBe('changes');
    await writeFile(showFile(), 'stale', { mode: 0o644 });
    expect((await wf.apply([show, applyStep()])).result).toBe('applied');
    expect((await stat(showFile())).mode & 0o777).toBe(0o600);

    const elsewhere = path.join(wf.projectDir, 'elsewhere.txt');
    await writeFile(elsewhere, 'untouched');
    expect((await wf.plan([init(), planStep(), run(`ln -s ${JSON.stringify(elsewhere)} "$SHOWFILE"`), show])).result).toBe('no-changes');
    expect(await readFile(elsewhere, 'utf8')).toBe('untouched');
    expect((await planJson()).format_version).toMatch(/^\d/);
    expect((await stat(showFile())).mode & 0o777).toBe(0o600);
  });

  it('fails a show step that has no plan to show, naming the step', async () => {
    const outcome = await wf.plan([show, run('echo never')]);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toBe(`step 1 of 2 (show): plan file ${wf.planFile} not found: run plan first`);
  });

  it('is removed with the plan file before the next plan, so a failed plan leaves no old JSON', async () => {
    expect((await wf.plan([init(), planStep(), show])).result).toBe('changes');
    expect(await exists(showFile())).toBe(true);
    await writeFile(path.join(wf.projectDir, 'broken.tf'), 'resource "terraform_data" {');
    expect((await wf.plan([init(), planStep()])).result).toBe('error');
    expect(await exists(wf.planFile)).toBe(false);
    expect(await exists(showFile())).toBe(false);
  });
});
