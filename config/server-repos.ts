// The `repos:` and `workflows:` sections of the TIDELINE_CONFIG YAML file (Atlantis's server-side
// repo config): which apply requirements and workflow a repository gets, and which restricted
// keys its repo config may set. raw YAML → zod schemas (defaults here) → `ServerRepoConfig`.
// Other sections of the file belong to other readers and are left alone.

import { z } from 'zod';
import { parseCron } from './cron.js';
import { toWorkflow, WorkflowNameSchema, WorkflowsSchema } from './server-repos-workflow.js';
import { booleanError, choiceError, expected, formatKeyPath, issuesToProblems, readYaml } from './server-repos-yaml.js';
import type { KeyPath, YamlProblem } from './server-repos-yaml.js';
import { ALLOWED_OVERRIDE_KEYS, APPLY_REQUIREMENTS, AUTODISCOVER_MODES, DEFAULT_WORKFLOW_NAME } from './server-repos-types.js';
import type { EffectiveRepoRules, ServerRepoConfig, ServerRepoRule, Workflow, WorkflowHook } from './server-repos-types.js';
import { toWorkflowHook, WorkflowHooksSchema } from './server-repos-hooks.js';

export type { EffectiveRepoRules, ServerRepoConfig, ServerRepoRule, WorkflowHook } from './server-repos-types.js';

export const ApplyRequirementSchema = z.enum(APPLY_REQUIREMENTS, { error: choiceError(APPLY_REQUIREMENTS) });

export const ApplyRequirementsSchema = z.array(ApplyRequirementSchema, {
  error: expected('a list of requirements', '`[approved, mergeable]` (or `[]` for none)'),
});

export const CronScheduleSchema = z.string({ error: expected('a cron expression in quotes', '"0 */6 * * *"') }).superRefine((text, ctx) => {
  const parsed = parseCron(text);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `is not a cron expression (${parsed.message}): write 5 fields, e.g. "0 */6 * * *"` });
});

export const DriftSettingsSchema = z.strictObject(
  {
    enabled: z.boolean({ error: booleanError }).optional(),
    schedule: CronScheduleSchema.optional(),
    remediate: z.boolean({ error: booleanError }).optional(),
  },
  { error: expected('a mapping', '`drift: { enabled: true, schedule: "0 * * * *" }`') },
);

/** `/regex/` (a leading Go-style `(?i)` becomes the `i` flag) → RegExp; anything else is a problem. */
export function slashRegex(text: string): { ok: true; regex: RegExp } | { ok: false; message: string } {
  if (text.length < 2 || !text.startsWith('/') || !text.endsWith('/')) {
    return { ok: false, message: 'is not a regular expression between slashes: write it like `/^main$/`' };
  }
  let body = text.slice(1, -1);
  let flags = '';
  if (body.startsWith('(?i)')) {
    body = body.slice(4);
    flags = 'i';
  }
  try {
    return { ok: true, regex: new RegExp(body, flags) };
  } catch (err: unknown) {
    const reason = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
    return { ok: false, message: `is not a valid regular expression (${reason}): fix it` };
  }
}

const EXACT_ID = /^([A-Za-z0-9.-]+\/)?[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export const RepoIdSchema = z
  .string({ error: 'is required: give an exact `owner/repo` or a `/regex/` matching `owner/repo`' })
  .transform((text, ctx): string | RegExp => {
    if (text.startsWith('/') && text.endsWith('/') && text.length >= 2) {
      const parsed = slashRegex(text);
      if (parsed.ok) return parsed.regex;
      ctx.issues.push({ code: 'custom', message: parsed.message, input: text });
      return z.NEVER;
    }
    if (!EXACT_ID.test(text)) {
      ctx.issues.push({ code: 'custom', message: `\`${text}\` is neither an exact \`owner/repo\` (or \`github.com/owner/repo\`) nor a \`/regex/\`: write it like \`acme/infra\` or \`/acme\\/.*/\``, input: text });
      return z.NEVER;
    }
    return text;
  });

const BranchRegexSchema = z.string({ error: expected('a `/regex/`', '`branch: /^main$/`') }).transform((text, ctx): RegExp => {
  const parsed = slashRegex(text);
  if (parsed.ok) return parsed.regex;
  ctx.issues.push({ code: 'custom', message: parsed.message, input: text });
  return z.NEVER;
});

/**
 * Atlantis's `repo_config_file`: a file path relative to the repository root, normalised (no
 * leading `./`). Refused: absolute paths, `..` (as Atlantis refuses it), backslashes and control
 * characters; the reader also keeps it inside the checkout through symlinks.
 */
export const RepoConfigFileSchema = z.string({ error: expected('a path relative to the repository root', '`repo_config_file: infra/atlantis.yaml`') }).transform((text, ctx) => {
  const segments = text.split('/').filter((segment) => segment !== '' && segment !== '.');
  let problem: string | null = null;
  if (/[\u0000-\u001f\u007f\\]/.test(text)) problem = 'contains a backslash or a control character: separate directories with /';
  else if (text.startsWith('/')) problem = 'is an absolute path: give the file relative to the repository root, e.g. `infra/atlantis.yaml`';
  else if (segments.includes('..')) problem = 'contains `..`: give the file relative to the repository root, inside it';
  else if (segments.length === 0 || text.endsWith('/')) problem = 'names no file: give the file relative to the repository root, e.g. `infra/atlantis.yaml`';
  if (problem === null) return segments.join('/');
  ctx.issues.push({ code: 'custom', message: problem, input: text });
  return z.NEVER;
});

export const ServerRepoRuleSchema = z.strictObject(
  {
    id: RepoIdSchema,
    branch: BranchRegexSchema.optional(),
    apply_requirements: ApplyRequirementsSchema.optional(),
    allowed_overrides: z
      .array(z.enum(ALLOWED_OVERRIDE_KEYS, { error: choiceError(ALLOWED_OVERRIDE_KEYS) }), { error: expected('a list', '`[apply_requirements, workflow]`') })
      .optional(),
    allowed_workflows: z.array(WorkflowNameSchema, { error: expected('a list of workflow names', '`[custom]`') }).optional(),
    allow_custom_workflows: z.boolean({ error: booleanError }).optional(),
    workflow: WorkflowNameSchema.optional(),
    drift: DriftSettingsSchema.optional(),
    autodiscover: z
      .strictObject({
        mode: z.enum(AUTODISCOVER_MODES, { error: choiceError(AUTODISCOVER_MODES) }),
        ignore_paths: z.array(z.string()).optional(),
      })
      .optional(),
    repo_config_file: RepoConfigFileSchema.optional(),
    plan_requirements: ApplyRequirementsSchema.optional(),
    pre_workflow_hooks: WorkflowHooksSchema.optional(),
    post_workflow_hooks: WorkflowHooksSchema.optional(),
    // Atlantis keys accepted so an Atlantis server config loads; Tideline warns and ignores them.
    import_requirements: ApplyRequirementsSchema.optional(),
    delete_source_branch_on_merge: z.boolean({ error: booleanError }).optional(),
    policy_check: z.boolean({ error: booleanError }).optional(),
    custom_policy_check: z.boolean({ error: booleanError }).optional(),
    repo_locking: z.boolean({ error: booleanError }).optional(),
    repo_locks: z.strictObject({ mode: z.enum(['disabled', 'on_plan', 'on_apply']) }).optional(),
    silence_pr_comments: z.array(z.enum(['plan', 'apply'])).optional(),
  },
  { error: expected('a mapping with at least `id`', '`- id: acme/infra`') },
);

const UNSUPPORTED_RULE_KEYS = [
  'import_requirements',
  'delete_source_branch_on_merge',
  'policy_check',
  'custom_policy_check',
  'repo_locking',
  'repo_locks',
  'silence_pr_comments',
] as const;

/** The two sections this reader owns; the rest of the file is other readers' business. */
export const ServerRepoSectionsSchema = z.looseObject({
  repos: z.array(ServerRepoRuleSchema, { error: expected('a list of repository rules', '`repos: [{ id: acme/infra }]`') }).default([]),
  workflows: WorkflowsSchema.default({}),
  policies: z.unknown().optional(),
  // Atlantis server-config sections Tideline does not act on: read only to warn about them.
  metrics: z.unknown().optional(),
  team_authz: z.unknown().optional(),
});

const NOUNS = { repos: 'a `repos` entry', 'workflows.*': 'a workflow', steps: 'a step' };

export type ParseServerRepoConfigResult = { ok: true; config: ServerRepoConfig } | { ok: false; problems: { variable: string; message: string }[] };

/** Reads `repos:` and `workflows:` from the server config file's text; `file` names it in messages. */
export function parseServerRepoConfig(yamlText: string, file: string): ParseServerRepoConfigResult {
  const read = readYaml(yamlText, {
    stringKeys: new Set(['id', 'branch', 'workflow', 'command', 'value', 'name', 'shell', 'shell_args', 'shellArgs', 'schedule', 'repo_config_file', 'regex_filter', 'run', 'description', 'commands']),
    stringListKeys: new Set(['extra_args', 'allowed_workflows', 'shell_args', 'shellArgs', 'ignore_paths']),
  });
  if (!read.ok) {
    const message = read.kind === 'aliases' ? 'expands its YAML anchors and aliases too many times: write the repeated parts out' : `is not valid YAML (${read.reason}): fix the YAML on that line`;
    return { ok: false, problems: [{ variable: read.kind === 'aliases' ? file : `${file} line ${read.line}`, message }] };
  }
  function where(problem: YamlProblem): string {
    const key = formatKeyPath(problem.path);
    return `${key === '' ? '' : `${key} in `}${file}${problem.line === null ? '' : ` line ${problem.line}`}`;
  }
  if (read.data === undefined || read.data === null) return { ok: true, config: { rules: [], workflows: {}, warnings: [] } };
  if (typeof read.data !== 'object' || Array.isArray(read.data)) {
    return { ok: false, problems: [{ variable: file, message: 'must be a YAML mapping: write it like `repos: [{ id: acme/infra }]`' }] };
  }
  const parsed = ServerRepoSectionsSchema.safeParse(read.data);
  if (!parsed.success) {
    const problems = issuesToProblems(ServerRepoSectionsSchema, parsed.error.issues, read.lineOf, NOUNS);
    return { ok: false, problems: problems.map((problem) => ({ variable: where(problem), message: problem.message })) };
  }
  const { repos, workflows: rawWorkflows, policies, metrics, team_authz: teamAuthz } = parsed.data;
  const warnings: string[] = [];
  const workflows: Record<string, Workflow> = {};
  for (const [name, workflow] of Object.entries(rawWorkflows)) workflows[name] = toWorkflow(workflow, ['workflows', name], warnings);
  const defined = (name: string): boolean => name === DEFAULT_WORKFLOW_NAME || Object.hasOwn(workflows, name);
  const problems: YamlProblem[] = [];
  const rules: ServerRepoRule[] = [];
  for (const [index, raw] of repos.entries()) {
    const at: KeyPath = ['repos', index];
    if (raw.workflow !== undefined && !defined(raw.workflow)) {
      problems.push({ path: [...at, 'workflow'], message: `names workflow \`${raw.workflow}\`, which is not defined: add it under \`workflows:\` or use \`default\``, line: read.lineOf([...at, 'workflow']) });
    }
    for (const [item, name] of (raw.allowed_workflows ?? []).entries()) {
      if (!defined(name)) {
        const path = [...at, 'allowed_workflows', item];
        problems.push({ path, message: `names workflow \`${name}\`, which is not defined: add it under \`workflows:\``, line: read.lineOf(path) });
      }
    }
    for (const key of UNSUPPORTED_RULE_KEYS) {
      if (raw[key] !== undefined) warnings.push(`\`${formatKeyPath([...at, key])}\` is not supported by Tideline yet and is ignored`);
    }
    if (raw.autodiscover?.ignore_paths !== undefined) warnings.push(`\`${formatKeyPath([...at, 'autodiscover', 'ignore_paths'])}\` is not supported by Tideline yet (set it in the repo config): it is ignored`);
    const rule: ServerRepoRule = { id: raw.id, origin: `${formatKeyPath(at)} in ${file} line ${read.lineOf(at) ?? '?'}` };
    if (raw.branch !== undefined) rule.branch = raw.branch;
    if (raw.apply_requirements !== undefined) rule.applyRequirements = raw.apply_requirements;
    if (raw.plan_requirements !== undefined) rule.planRequirements = raw.plan_requirements;
    if (raw.allowed_overrides !== undefined) rule.allowedOverrides = raw.allowed_overrides;
    if (raw.allowed_workflows !== undefined) rule.allowedWorkflows = raw.allowed_workflows;
    if (raw.allow_custom_workflows !== undefined) rule.allowCustomWorkflows = raw.allow_custom_workflows;
    if (raw.workflow !== undefined) rule.workflow = raw.workflow;
    if (raw.drift !== undefined) rule.drift = withoutUndefined(raw.drift);
    if (raw.autodiscover !== undefined) rule.autodiscover = { mode: raw.autodiscover.mode };
    if (raw.repo_config_file !== undefined) rule.repoConfigFile = raw.repo_config_file;
    if (raw.pre_workflow_hooks !== undefined) rule.preWorkflowHooks = raw.pre_workflow_hooks.map(toWorkflowHook);
    if (raw.post_workflow_hooks !== undefined) rule.postWorkflowHooks = raw.post_workflow_hooks.map(toWorkflowHook);
    rules.push(rule);
  }
  if (policies !== undefined) warnings.push('`policies` is not supported by Tideline yet and is ignored');
  if (metrics !== undefined) warnings.push('`metrics` is not supported by Tideline and is ignored: Prometheus scrapes `/metrics`');
  if (teamAuthz !== undefined) {
    warnings.push('`team_authz` is not supported by Tideline and is ignored: its command is never called, so anyone may plan and anyone with write access may apply');
  }
  if (problems.length > 0) return { ok: false, problems: problems.map((problem) => ({ variable: where(problem), message: problem.message })) };
  return { ok: true, config: { rules, workflows, warnings } };
}

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

export interface EffectiveRulesOptions {
  /** Host for Atlantis-style ids `host/owner/repo`; default `github.com`. */
  host?: string;
  /** Base branch of the pull request; rules with `branch:` apply only when it matches. Unset: `branch` is not checked. */
  baseBranch?: string;
}

/** Whether `rule` applies to `repoFullName` (`owner/repo`, compared ignoring case, as GitHub does). */
export function ruleMatches(rule: ServerRepoRule, repoFullName: string, options: EffectiveRulesOptions = {}): boolean {
  if (rule.branch !== undefined && options.baseBranch !== undefined && !rule.branch.test(options.baseBranch)) return false;
  const names = [repoFullName, `${options.host ?? 'github.com'}/${repoFullName}`];
  if (typeof rule.id === 'string') {
    const id = rule.id.toLowerCase();
    return names.some((name) => name.toLowerCase() === id);
  }
  const regex = rule.id;
  return names.some((name) => regex.test(name));
}

/**
 * Atlantis's merge: every matching rule applies in order and a later match wins key by key; a key
 * a rule leaves out keeps the earlier value. Without a match: no requirements, no overrides, no
 * custom workflows, the default workflow.
 */
export function effectiveRules(config: ServerRepoConfig, repoFullName: string, options: EffectiveRulesOptions = {}): EffectiveRepoRules {
  const rules: EffectiveRepoRules = {
    applyRequirements: [],
    planRequirements: [],
    allowedOverrides: [],
    allowedWorkflows: [],
    allowCustomWorkflows: false,
    workflow: null,
    drift: {},
    autodiscoverMode: null,
    repoConfigFile: null,
    matched: [],
  };
  for (const rule of config.rules) {
    if (!ruleMatches(rule, repoFullName, options)) continue;
    rules.matched.push(rule.origin);
    if (rule.applyRequirements !== undefined) rules.applyRequirements = [...rule.applyRequirements];
    if (rule.planRequirements !== undefined) rules.planRequirements = [...rule.planRequirements];
    if (rule.allowedOverrides !== undefined) rules.allowedOverrides = [...rule.allowedOverrides];
    if (rule.allowedWorkflows !== undefined) rules.allowedWorkflows = [...rule.allowedWorkflows];
    if (rule.allowCustomWorkflows !== undefined) rules.allowCustomWorkflows = rule.allowCustomWorkflows;
    if (rule.workflow !== undefined) rules.workflow = rule.workflow;
    if (rule.drift !== undefined) rules.drift = { ...rules.drift, ...rule.drift };
    if (rule.autodiscover !== undefined) rules.autodiscoverMode = rule.autodiscover.mode;
    if (rule.repoConfigFile !== undefined) rules.repoConfigFile = rule.repoConfigFile;
  }
  return rules;
}

/**
 * The hooks of every matching rule, in file order: unlike the other keys (last match wins),
 * Atlantis appends the hooks of all matching entries. As in Atlantis, pre hooks match the
 * repository only and post hooks also the base branch; `commands` then filters by command.
 */
export function hooksFor(rules: readonly ServerRepoRule[], when: 'pre' | 'post', command: string, repoFullName: string, options: EffectiveRulesOptions): WorkflowHook[] {
  const match = when === 'pre' ? { ...(options.host === undefined ? {} : { host: options.host }) } : options;
  return rules
    .filter((rule) => ruleMatches(rule, repoFullName, match))
    .flatMap((rule) => (when === 'pre' ? rule.preWorkflowHooks : rule.postWorkflowHooks) ?? [])
    .filter((hook) => hook.commands === undefined || hook.commands.includes(command));
}
