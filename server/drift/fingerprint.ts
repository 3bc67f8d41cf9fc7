// The fingerprint of a drift: sha256 of the plan output normalised so that the same drift seen
// twice hashes the same. Dropped: refresh and state-lock lines, terraform's boilerplate and
// warnings, `(known after apply)` attributes, `# (N unchanged … hidden)` notes, alignment
// padding. Replaced: timestamps, UUIDs, and the value of `id` attributes (a recreated object has
// a new id but is the same drift). Resource blocks and loose lines (outputs, the `Plan:` line)
// are each sorted, so the order terraform happens to print them in does not count.

import { createHash } from 'node:crypto';
import { stripRefreshing } from '../../runners/workflow.js';

const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Lines that say nothing about what differs: terraform's framing, hints and lock chatter. */
const NOISE: readonly RegExp[] = [
  /^Acquiring state lock\. This may take a few moments\.\.\.$/,
  /^Releasing state lock\. This may take a few moments\.\.\.$/,
  /^Terraform used the selected providers to generate the following execution$/,
  /^plan\. Resource actions are indicated with the following symbols:$/,
  /^(?:[+~-]|-\/\+|\+\/-|<=) (?:create|update in-place|destroy|read \(data resources\)|destroy and then create replacement|create replacement and then destroy)$/,
  /^Terraform will perform the following actions:$/,
  /^Terraform planned the following actions, but then encountered a problem:$/,
  /^Saved the plan to: /,
  /^To perform exactly these actions, run the following command to apply:$/,
  /^terraform apply /,
  /^Note: You didn't use the -out option/,
  /^Unless you have made equivalent changes to your configuration, or ignored the$/,
  /^relevant attributes using ignore_changes, the following plan may include$/,
  /^actions to undo or respond to these changes\.$/,
  /^Terraform detected the following changes made outside of Terraform since the$/,
  /^last "terraform apply" which may have affected this plan:$/,
  /^[─━-]{5,}$/,
  /^# \(\d+ unchanged (?:attributes?|blocks?|elements?) hidden\)$/,
  /^# Warning: this attribute value will be marked as sensitive/,
];

const TIMESTAMP = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const ID_ATTRIBUTE = /^(?:[+~-]|-\/\+|\+\/-)?\s*"?id"?\s*=/;
const COMPUTED_ONLY = /^[+~-]?\s*"?[\w.-]+"?\s*=\s*<computed>$/;
/** `# aws_s3_bucket.b will be updated in-place`, `# x has changed`, `# y must be replaced`… */
const BLOCK_HEADER = /^# \S.* (?:will|must|has|have|is|are) /;
const SECTION = /^(?:Plan:|Changes to Outputs:|Note: Objects have changed outside of Terraform|No changes\.)/;

/** The plan output as compared between sweeps; see the file header for what is dropped. */
export function normalisePlan(output: string): string {
  const text = stripRefreshing(output.replace(/\r\n?/g, '\n').replace(ANSI_ESCAPE, ''));
  const blocks: string[][] = [];
  const loose: string[] = [];
  let current: string[] | null = null;
  let inWarning = false;
  for (const raw of text.split('\n')) {
    // Warnings and errors are drawn in a box (╷ │ ╵): advice, not differences.
    if (raw.startsWith('╷')) inWarning = true;
    if (inWarning) {
      if (raw.startsWith('╵')) inWarning = false;
      continue;
    }
    const line = normaliseLine(raw);
    if (line === null) continue;
    if (BLOCK_HEADER.test(line)) {
      current = [line];
      blocks.push(current);
    } else if (SECTION.test(line)) {
      current = null;
      loose.push(line);
    } else if (current !== null) {
      current.push(line);
    } else {
      loose.push(line);
    }
  }
  const sortedBlocks = blocks.map((block) => block.join('\n')).sort();
  return [...sortedBlocks, ...loose.sort()].join('\n');
}

/** sha256 (hex) of the normalised plan. */
export function driftFingerprint(output: string): string {
  return createHash('sha256').update(normalisePlan(output)).digest('hex');
}

/** One line normalised, or null when it says nothing about the difference. */
function normaliseLine(raw: string): string | null {
  let line = raw.trim().replace(/\s+/g, ' ');
  if (line === '') return null;
  if (NOISE.some((re) => re.test(line))) return null;
  line = line.replace(/\(known after apply\)/g, '<computed>').replace(TIMESTAMP, '<time>').replace(UUID, '<uuid>');
  if (COMPUTED_ONLY.test(line)) return null;
  if (ID_ATTRIBUTE.test(line)) line = line.replace(/"[^"]*"/g, '<id>');
  return line;
}
