import { describe, expect, it } from 'vitest';
import { driftFingerprint, normalisePlan } from '../../server/drift/fingerprint.js';

/** A plan as terraform prints it for drift of one attribute, with knobs for what must not count. */
function plan(opts: { id?: string; value?: string; refresh?: string; order?: 'ab' | 'ba'; saved?: string; pad?: string; time?: string; extraComputed?: boolean; lock?: boolean } = {}): string {
  const id = opts.id ?? 'c4e2c240-6971-f288-d82d-957a12a38410';
  const pad = opts.pad ?? '     ';
  const a = [
    '  # terraform_data.a will be updated in-place',
    '  ~ resource "terraform_data" "a" {',
    `        id${pad}= "${id}"`,
    `      ~ input${pad.slice(3)}  = "${opts.value ?? 'other'}" -> "one"`,
    '      ~ output = "other" -> (known after apply)',
    ...(opts.extraComputed === true ? ['      + triggers_replace = (known after apply)'] : []),
    `      ~ stamp  = "${opts.time ?? '2025-01-31T12:00:00Z'}" -> "x"`,
    '        # (1 unchanged attribute hidden)',
    '    }',
  ];
  const b = [
    '  # terraform_data.b will be created',
    '  + resource "terraform_data" "b" {',
    '      + id     = (known after apply)',
    '      + input  = "new"',
    '    }',
  ];
  return [
    ...(opts.lock === true ? ['Acquiring state lock. This may take a few moments...'] : []),
    `terraform_data.a: Refreshing state... [id=${opts.refresh ?? id}]`,
    '',
    'Terraform used the selected providers to generate the following execution',
    'plan. Resource actions are indicated with the following symbols:',
    '  + create',
    '  ~ update in-place',
    '',
    'Terraform will perform the following actions:',
    '',
    ...(opts.order === 'ba' ? [...b, '', ...a] : [...a, '', ...b]),
    '',
    'Plan: 1 to add, 1 to change, 0 to destroy.',
    '',
    'Changes to Outputs:',
    '  ~ v = "other" -> (known after apply)',
    '',
    '─────────────────────────────────────────────────────────────────────────────',
    '',
    `Saved the plan to: ${opts.saved ?? '/data/plans/_drift/acme/infra/abc-1.tfplan'}`,
    '',
    'To perform exactly these actions, run the following command to apply:',
    `    terraform apply "${opts.saved ?? '/data/plans/_drift/acme/infra/abc-1.tfplan'}"`,
    ...(opts.lock === true ? ['Releasing state lock. This may take a few moments...'] : []),
  ].join('\n');
}

const BASE = plan();

describe('drift fingerprint', () => {
  it.each([
    ['a different resource id (the object was recreated)', plan({ id: '0b6f1a2e-1111-2222-3333-444455556666' })],
    ['different refresh lines', plan({ refresh: 'something-else' })],
    ['resource blocks printed in another order', plan({ order: 'ba' })],
    ['another plan file path', plan({ saved: '/tmp/other/place.tfplan' })],
    ['different alignment padding', plan({ pad: ' ' })],
    ['another timestamp in a value', plan({ time: '2026-07-04T08:15:30.123+02:00' })],
    ['an extra attribute known only after apply', plan({ extraComputed: true })],
    ['state lock chatter', plan({ lock: true })],
    ['Windows line endings', BASE.replace(/\n/g, '\r\n')],
    ['colour codes', BASE.replace('Plan:', '\u001b[1mPlan:\u001b[0m')],
    ['a warning box', `${BASE}\n\n╷\n│ Warning: Deprecated attribute\n│\n│ The attribute "x" is deprecated.\n╵\n`],
  ])('is the same with %s', (_name, variant) => {
    expect(driftFingerprint(variant)).toBe(driftFingerprint(BASE));
  });

  it.each([
    ['a different drifted value', plan({ value: 'tampered' })],
    ['a resource more to create', BASE.replace('Plan: 1 to add', 'Plan: 2 to add').replace('  # terraform_data.b will be created', '  # terraform_data.c will be created\n  + resource "terraform_data" "c" {\n    }\n  # terraform_data.b will be created')],
    ['a destroy instead of a create', BASE.replace('# terraform_data.b will be created', '# terraform_data.b will be destroyed').replace('+ resource "terraform_data" "b"', '- resource "terraform_data" "b"')],
    ['another output change', BASE.replace('~ v = "other"', '~ v = "tampered"')],
  ])('differs with %s', (_name, variant) => {
    expect(driftFingerprint(variant)).not.toBe(driftFingerprint(BASE));
  });

  it('is a sha256 in hex', () => {
    expect(driftFingerprint(BASE)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps what differs and drops the noise', () => {
    const text = normalisePlan(BASE);
    expect(text).toContain('~ input = "other" -> "one"');
    expect(text).toContain('id = <id>');
    expect(text).toContain('~ stamp = "<time>" -> "x"');
    expect(text).toContain('Plan: 1 to add, 1 to change, 0 to destroy.');
    expect(text).not.toContain('Refreshing state');
    expect(text).not.toContain('Saved the plan');
    expect(text).not.toContain('unchanged attribute');
    expect(text).not.toContain('+ id = <computed>');
  });
});
