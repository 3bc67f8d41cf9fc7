import { describe, expect, it } from 'vitest';

import { planOutputAsDiff, planSummaryLine } from '../../server/comments/index.js';

// Output of `terraform plan -input=false -no-color` (Terraform 1.11, TF_IN_AUTOMATION=1):
// a data source read, refreshes, and one destroy, update, replacement and create.
const REAL_PLAN = `terraform_data.gone: Refreshing state... [id=3a67af82-c838-65c1-2890-86a41a28eba1]
terraform_data.keep: Refreshing state... [id=93fac60f-a1f0-3dca-8445-fd8b29b69607]
data.terraform_remote_state.net: Reading...
terraform_data.swap: Refreshing state... [id=f0988166-6ddf-1310-14dc-c61d59163bea]
data.terraform_remote_state.net: Read complete after 0s

Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  + create
  ~ update in-place
  - destroy
-/+ destroy and then create replacement

Terraform will perform the following actions:

  # terraform_data.gone will be destroyed
  # (because terraform_data.gone is not in configuration)
  - resource "terraform_data" "gone" {
      - id     = "3a67af82-c838-65c1-2890-86a41a28eba1" -> null
      - input  = "bye" -> null
    }

  # terraform_data.keep will be updated in-place
  ~ resource "terraform_data" "keep" {
        id     = "93fac60f-a1f0-3dca-8445-fd8b29b69607"
      ~ input  = "v1" -> "v2"
    }

  # terraform_data.swap must be replaced
-/+ resource "terraform_data" "swap" {
      ~ triggers_replace = [
          ~ "a" -> "b",
        ]
    }

  # terraform_data.x will be created
  + resource "terraform_data" "x" {
      + id     = (known after apply)
      + input  = {
          + name = "web"
          + tags = [
              + "a",
            ]
        }
    }

Plan: 2 to add, 1 to change, 2 to destroy.
`;

const EXPECTED_DIFF = `Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
+   create
!   update in-place
-   destroy
-/+ destroy and then create replacement

Terraform will perform the following actions:

  # terraform_data.gone will be destroyed
  # (because terraform_data.gone is not in configuration)
-   resource "terraform_data" "gone" {
-       id     = "3a67af82-c838-65c1-2890-86a41a28eba1" -> null
-       input  = "bye" -> null
    }

  # terraform_data.keep will be updated in-place
!   resource "terraform_data" "keep" {
        id     = "93fac60f-a1f0-3dca-8445-fd8b29b69607"
!       input  = "v1" -> "v2"
    }

  # terraform_data.swap must be replaced
-/+ resource "terraform_data" "swap" {
!       triggers_replace = [
!           "a" -> "b",
        ]
    }

  # terraform_data.x will be created
+   resource "terraform_data" "x" {
+       id     = (known after apply)
+       input  = {
+           name = "web"
+           tags = [
+               "a",
            ]
        }
    }

Plan: 2 to add, 1 to change, 2 to destroy.`;

describe('planOutputAsDiff', () => {
  it('turns a real terraform plan into the Atlantis diff view', () => {
    expect(planOutputAsDiff(REAL_PLAN)).toBe(EXPECTED_DIFF);
  });

  it('keeps the line count apart from the dropped refresh lines and leading blank', () => {
    expect(planOutputAsDiff(REAL_PLAN).split('\n')).toHaveLength(REAL_PLAN.trimEnd().split('\n').length - 6);
  });

  it.each([
    ['  + resource "terraform_data" "x" {', '+   resource "terraform_data" "x" {'],
    ['  - resource "terraform_data" "x" {', '-   resource "terraform_data" "x" {'],
    ['  ~ resource "terraform_data" "x" {', '!   resource "terraform_data" "x" {'],
    ['      + id = (known after apply)', '+       id = (known after apply)'],
    ['~ aws_instance.web', '! aws_instance.web'],
    ['  # terraform_data.x will be created', '  # terraform_data.x will be created'],
    ['        id = "abc"', '        id = "abc"'],
    ['-/+ resource "terraform_data" "swap" {', '-/+ resource "terraform_data" "swap" {'],
    ['Plan: 1 to add, 0 to change, 0 to destroy.', 'Plan: 1 to add, 0 to change, 0 to destroy.'],
    ['  -var is a flag', '  -var is a flag'],
    ['~/path/at/column/zero', '~/path/at/column/zero'],
  ])('rewrites %j as %j', (line, expected) => {
    expect(planOutputAsDiff(line)).toBe(expected);
  });

  it.each([
    'terraform_data.x: Refreshing state... [id=1]',
    'module.vpc.aws_vpc.main: Refreshing state... [id=vpc-1]',
    'data.aws_ami.ubuntu: Reading...',
    'data.aws_ami.ubuntu: Still reading... [10s elapsed]',
    'data.aws_ami.ubuntu: Read complete after 1s [id=ami-1]',
    'Refreshing Terraform state in-memory prior to plan...',
  ])('drops the refresh line %j', (noise) => {
    expect(planOutputAsDiff(`${noise}\nkept`)).toBe('kept');
  });

  it('reads CRLF output and strips colour codes', () => {
    expect(planOutputAsDiff('\u001b[32m  + resource "a" "b" {\u001b[0m\r\n    }\r\n')).toBe('+   resource "a" "b" {\n    }');
  });
});

describe('planSummaryLine', () => {
  it.each([
    ['printed by terraform', 'x\nPlan: 1 to import, 2 to add, 0 to change, 0 to destroy.\n', null, 'Plan: 1 to import, 2 to add, 0 to change, 0 to destroy.'],
    ['built from the summary', 'no plan line', { add: 3, change: 1, destroy: 2 }, 'Plan: 3 to add, 1 to change, 2 to destroy.'],
    ['absent', 'no plan line', null, null],
  ])('is %s', (_what, output, summary, expected) => {
    expect(planSummaryLine({ result: 'changes', summary, output, exitCode: 2, durationMs: 1 })).toBe(expected);
  });
});
