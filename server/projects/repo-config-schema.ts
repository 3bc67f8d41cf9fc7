// zod schemas of the repo config (`tideline.yaml`, or Atlantis's `atlantis.yaml` version 3), with
// their defaults. Every Atlantis v3 key is here: the ones Tideline acts on, and the ones it accepts
// and warns about (listed in UNSUPPORTED_*). Tideline adds `kind`, the kubernetes keys (issue 5)
// and `drift` (issue 6). Checks that span keys or projects live in `repo-config-checks.ts`.

import { z } from 'zod';
import { ApplyRequirementsSchema, CronScheduleSchema, DriftSettingsSchema, slashRegex } from '../../config/server-repos.js';
import { WorkflowNameSchema, WorkflowsSchema } from '../../config/server-repos-workflow.js';
import { AUTODISCOVER_MODES } from '../../config/server-repos-types.js';
import { booleanError, choiceError, expected, shownValue } from '../../config/server-repos-yaml.js';
import { normaliseDir } from '../commands/repo-dir.js';
import { validateWorkspaceName } from '../commands/workspace-name.js';
import { globProblem } from './glob.js';

/** Atlantis's default `when_modified` (raw/autoplan.go). */
export const DEFAULT_WHEN_MODIFIED: readonly string[] = ['**/*.tf*', '**/*.tofu', '**/*.tofu.json', '**/terragrunt.hcl', '**/.terraform.lock.hcl'];
/** A kubernetes project is planned when any file under its dir changes. */
export const KUBERNETES_WHEN_MODIFIED: readonly string[] = ['**/*'];

const BOOLEAN = { error: booleanError };

export const ProjectNameSchema = z
  .string({ error: expected('text', '`name: network-prod`') })
  .min(1, 'is empty: give the project a name or remove the key')
  .regex(/^[A-Za-z0-9_.~/-]+$/, 'may only contain letters, digits and - _ . ~ / (it is used in commands and file names): rename the project')
  .refine((name) => !/[*?[]/.test(name), 'cannot contain glob characters (* ? [): rename the project');

export const ProjectDirSchema = z
  .string({ error: 'is required: give the directory relative to the repository root, e.g. `dir: network` (`.` for the root)' })
  .transform((dir, ctx) => {
    if (/[*?[]/.test(dir)) {
      ctx.issues.push({ code: 'custom', message: 'is a glob pattern, which Tideline does not expand yet: list each directory as its own project', input: dir });
      return z.NEVER;
    }
    const normal = normaliseDir(dir);
    if (!normal.ok) {
      ctx.issues.push({ code: 'custom', message: normal.message, input: dir });
      return z.NEVER;
    }
    return normal.dir;
  });

export const WorkspaceSchema = z.string({ error: expected('a workspace name', '`workspace: staging`') }).superRefine((name, ctx) => {
  const problem = validateWorkspaceName(name);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

export const GlobSchema = z.string({ error: expected('a glob in quotes', '"**/*.tf"') }).superRefine((glob, ctx) => {
  const problem = globProblem(glob);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

export const AutoplanSchema = z.strictObject(
  {
    enabled: z.boolean(BOOLEAN).default(true),
    /** No default here: it depends on the project's kind (see ProjectSchema). */
    when_modified: z.array(GlobSchema, { error: expected('a list of globs relative to the project dir', '["*.tf", "../modules/**/*.tf"]') }).optional(),
  },
  { error: expected('a mapping', '`autoplan: { enabled: true, when_modified: ["*.tf"] }`') },
);

/** Exact versions as Atlantis accepts them (hashicorp/go-version): `1.6.0`, `v0.12.0-beta1`. */
export const TerraformVersionSchema = z
  .string({ error: expected('a version in quotes', '"1.6.0"') })
  .regex(/^v?\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/, 'is not an exact version: write one such as "1.6.0" or "v1.5.7" (a constraint like ~> 1.5 is not accepted)');

/** Kept as written (`/(?i)^main$/`): `onBaseBranch` compiles it, with the `(?i)` flag a bare source would lose. */
export const BranchRegexSchema = z.string({ error: expected('a `/regex/` matching base branches', '`/^main$/`') }).superRefine((text, ctx) => {
  const parsed = slashRegex(text);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
});

export const ProjectDriftSchema = z.strictObject(
  { enabled: z.boolean(BOOLEAN).optional(), schedule: CronScheduleSchema.optional() },
  { error: expected('a mapping', '`drift: { enabled: true, schedule: "0 * * * *" }`') },
);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const REPO_LOCK_MODES = ['disabled', 'on_plan', 'on_apply'] as const;
const SILENCEABLE = ['plan', 'apply'] as const;

/** Atlantis's `repo_locks`, at the top level and on a project (accepted, warned about). */
export const RepoLocksSchema = z.strictObject(
  { mode: z.enum(REPO_LOCK_MODES, { error: choiceError(REPO_LOCK_MODES) }) },
  { error: expected('a mapping', '`repo_locks: { mode: on_plan }`') },
);

/** Atlantis's `silence_pr_comments`, at the top level and on a project (accepted, warned about). */
export const SilencePrCommentsSchema = z.array(z.enum(SILENCEABLE, { error: choiceError(SILENCEABLE) }), {
  error: expected('a list of stages', '`silence_pr_comments: [apply]`'),
});

export const ProjectSchema = z
  .strictObject(
    {
      name: ProjectNameSchema.optional(),
      branch: BranchRegexSchema.optional(),
      dir: ProjectDirSchema,
      // Atlantis reads an empty `workspace: ""` as `default`, like a missing one.
      workspace: z.preprocess((value) => (value === '' ? undefined : value), WorkspaceSchema.default('default')),
      kind: z.enum(['terraform', 'kubernetes'], { error: choiceError(['terraform', 'kubernetes']) }).default('terraform'),
      execution_order_group: z.int({ error: expected('a whole number', '`execution_order_group: 1`') }).default(0),
      depends_on: z
        .array(z.string({ error: expected('a project name', '`depends_on: [network]`') }), { error: expected('a list of project names', '`depends_on: [network]`') })
        .default([]),
      autoplan: AutoplanSchema.optional(),
      apply_requirements: ApplyRequirementsSchema.optional(),
      workflow: WorkflowNameSchema.optional(),
      terraform_version: TerraformVersionSchema.optional(),
      // Tideline: kubernetes projects (issue 5)
      namespace: z.string({ error: expected('a namespace name', '`namespace: apps`') }).regex(DNS_LABEL, 'is not a Kubernetes namespace name: use lowercase letters, digits and -, e.g. `apps`').max(63).optional(),
      cluster: z.string({ error: expected('a cluster name', '`cluster: prod-eu`') }).regex(/^[A-Za-z0-9_.-]+$/, 'is not a cluster name: use the name (letters, digits, -, _ and .) the server config maps to a kubeconfig').optional(),
      prune: z.boolean(BOOLEAN).optional(),
      field_manager: z.string({ error: expected('text', '`field_manager: tideline`') }).regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'is not a field manager name: use 1-128 letters, digits, -, _, . or :').optional(),
      // Tideline: drift (issue 6)
      drift: ProjectDriftSchema.optional(),
      // Atlantis keys accepted but not acted on yet (warned about).
      terraform_distribution: z.enum(['terraform', 'opentofu'], { error: choiceError(['terraform', 'opentofu']) }).optional(),
      plan_requirements: ApplyRequirementsSchema.optional(),
      // Accepted and warned about: Tideline has no import command for them to gate.
      import_requirements: ApplyRequirementsSchema.optional(),
      delete_source_branch_on_merge: z.boolean(BOOLEAN).optional(),
      repo_locking: z.boolean(BOOLEAN).optional(),
      repo_locks: RepoLocksSchema.optional(),
      policy_check: z.boolean(BOOLEAN).optional(),
      custom_policy_check: z.boolean(BOOLEAN).optional(),
      silence_pr_comments: SilencePrCommentsSchema.optional(),
      glob_file_match: z.array(z.string()).optional(),
    },
    { error: expected('a mapping with at least `dir`', '`- dir: network`') },
  )
  .transform((project) => ({
    ...project,
    autoplan: {
      enabled: project.autoplan?.enabled ?? true,
      when_modified: project.autoplan?.when_modified ?? [...(project.kind === 'kubernetes' ? KUBERNETES_WHEN_MODIFIED : DEFAULT_WHEN_MODIFIED)],
    },
    prune: project.prune ?? true,
    field_manager: project.field_manager ?? 'tideline',
  }));

export const UNSUPPORTED_PROJECT_KEYS = [
  // Atlantis downloads and runs that terraform version; Tideline runs the server's one.
  'terraform_version',
  'import_requirements',
  'delete_source_branch_on_merge',
  'repo_locking',
  'repo_locks',
  'policy_check',
  'custom_policy_check',
  'silence_pr_comments',
] as const;

export const RepoDriftSchema = DriftSettingsSchema;

export const RepoConfigSchema = z.strictObject(
  {
    version: z.literal(3, { error: (issue) => `is ${shownValue(issue.input)}: write \`version: 3\` (Tideline reads atlantis.yaml version 3)` }),
    automerge: z.boolean(BOOLEAN).default(false),
    autodiscover: z
      .strictObject({
        mode: z.enum(AUTODISCOVER_MODES, { error: choiceError(AUTODISCOVER_MODES) }).default('auto'),
        ignore_paths: z.array(GlobSchema, { error: expected('a list of globs', '["vendor/**"]') }).default([]),
      })
      .default({ mode: 'auto', ignore_paths: [] }),
    parallel_plan: z.boolean(BOOLEAN).default(false),
    parallel_apply: z.boolean(BOOLEAN).default(false),
    abort_on_execution_order_fail: z.boolean(BOOLEAN).default(false),
    projects: z.array(ProjectSchema, { error: expected('a list of projects', '`projects: [{ dir: network }]`') }).default([]),
    workflows: WorkflowsSchema.default({}),
    allowed_regexp_prefixes: z.array(z.string({ error: expected('text', '`- dev/`') }), { error: expected('a list of prefixes', '`[dev/, staging/]`') }).default([]),
    drift: RepoDriftSchema.optional(),
    // Atlantis keys accepted but not acted on yet (warned about).
    delete_source_branch_on_merge: z.boolean(BOOLEAN).optional(),
    emoji_reaction: z.string({ error: expected('an emoji name', '`emoji_reaction: eyes`') }).optional(),
    repo_locks: RepoLocksSchema.optional(),
    silence_pr_comments: SilencePrCommentsSchema.optional(),
    policies: z.unknown().optional(),
  },
  { error: expected('a mapping', '`version: 3`') },
);

export const UNSUPPORTED_TOP_KEYS = ['delete_source_branch_on_merge', 'emoji_reaction', 'repo_locks', 'silence_pr_comments', 'policies'] as const;

export type ValidatedRepoConfig = z.output<typeof RepoConfigSchema>;
export type ValidatedProject = ValidatedRepoConfig['projects'][number];

/** Keys read as text even when they look like numbers or booleans. */
export const STRING_KEYS = new Set([
  'name', 'dir', 'workspace', 'workflow', 'terraform_version', 'namespace', 'cluster', 'field_manager',
  'schedule', 'command', 'value', 'shell', 'shell_args', 'shellArgs', 'branch', 'emoji_reaction', 'regex_filter',
]);
export const STRING_LIST_KEYS = new Set(['depends_on', 'when_modified', 'extra_args', 'allowed_regexp_prefixes', 'ignore_paths', 'shell_args', 'shellArgs']);

/** How unknown-key messages name each kind of object. */
export const NOUNS: Readonly<Record<string, string>> = { projects: 'a project', steps: 'a step', 'workflows.*': 'a workflow' };
