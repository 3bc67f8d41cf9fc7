// Workflows and steps as Atlantis writes them, for both the server config and the repo config:
//   - init | - plan: { extra_args: [...] } | - run: cmd | - run: { command, output, regex_filter, shell, shellArgs }
//   - env: { name, value | command, shell, shellArgs } | - multienv: cmd | - multienv: { command, output, shell, shellArgs }
// `shellArgs` is Atlantis's spelling; Tideline's earlier `shell_args` is read too.
//   - show (Atlantis's: `terraform show -json` of the plan into $SHOWFILE; it takes no arguments)
// Steps Tideline does not run yet (policy_check, import, state_rm) and stages it
// does not run yet (policy_check, import, state_rm) are accepted and reported as warnings.

import { z } from 'zod';
import { choiceError, expected, formatKeyPath, unknownKeyMessage } from './server-repos-yaml.js';
import type { KeyPath } from './server-repos-yaml.js';
import { builtInDefaultWorkflow, RUN_OUTPUTS } from './server-repos-types.js';
import type { Step, Workflow } from './server-repos-types.js';

export type ParsedStep = Step | { kind: 'unsupported'; name: string };

const BUILT_IN_STEPS = ['init', 'plan', 'apply'] as const;
const UNSUPPORTED_STEPS = ['policy_check', 'import', 'state_rm'] as const;
const STEP_LIST = 'init, plan, apply, show, run, env or multienv';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const ExtraArgsSchema = z.array(z.string({ error: expected('text', '`"-lock=false"` (quote it)') }), {
  error: expected('a list of arguments', '`extra_args: ["-lock=false"]`'),
});

export const BuiltInStepArgsSchema = z.strictObject(
  { extra_args: ExtraArgsSchema.default([]) },
  { error: expected('a mapping with `extra_args`', '`- plan: { extra_args: ["-lock=false"] }`') },
);

const ShellSchema = z.string({ error: expected('the shell to run the command with', '`shell: bash`') }).min(1, 'is empty: name a shell, e.g. bash');

/** Atlantis splits a text `shellArgs` on spaces; a list is taken as it is. */
const ShellArgsSchema = z
  .union([z.string(), z.array(z.string())], { error: expected('the shell arguments as text or a list', '`shellArgs: -ec`') })
  .transform((args) => (typeof args === 'string' ? args.split(/\s+/).filter((arg) => arg !== '') : args));

/** The shell keys of run, env and multienv steps. */
const SHELL_KEYS = { shell: ShellSchema.optional(), shellArgs: ShellArgsSchema.optional(), shell_args: ShellArgsSchema.optional() };

export const RunStepArgsSchema = z.strictObject(
  {
    command: z.string({ error: 'is required: give the shell command to run, e.g. `command: make lint`' }).min(1, 'is empty: give the shell command to run'),
    output: z.enum(RUN_OUTPUTS, { error: choiceError(RUN_OUTPUTS) }).default('show'),
    regex_filter: z
      .string({ error: expected('a regular expression', '`regex_filter: "password=\\S+"`') })
      .superRefine((text, ctx) => {
        try {
          new RegExp(text, 'g');
        } catch (err: unknown) {
          ctx.addIssue({ code: 'custom', message: `is not a valid regular expression (${err instanceof Error ? err.message : String(err)}): fix it` });
        }
      })
      .optional(),
    ...SHELL_KEYS,
  },
  { error: expected('a command', '`- run: make lint`, or a mapping with `command`') },
);

const MULTIENV_OUTPUTS = ['show', 'hide'] as const;

export const MultiEnvStepArgsSchema = z.strictObject(
  {
    command: z.string({ error: 'is required: give the command that prints NAME=value pairs, e.g. `command: ./envs.sh`' }).min(1, 'is empty: give the command to run'),
    output: z.enum(MULTIENV_OUTPUTS, { error: choiceError(MULTIENV_OUTPUTS) }).default('show'),
    ...SHELL_KEYS,
  },
  { error: expected('a command', '`- multienv: ./envs.sh`, or a mapping with `command`') },
);

export const EnvStepArgsSchema = z.strictObject(
  {
    name: z
      .string({ error: 'is required: name the environment variable, e.g. `name: TF_VAR_region`' })
      .regex(ENV_NAME, 'is not an environment variable name: use letters, digits and _, not starting with a digit'),
    value: z.string({ error: expected('text', '`value: "1"` (quote it)') }).optional(),
    command: z.string({ error: expected('a shell command', '`command: git rev-parse HEAD`') }).min(1, 'is empty: give a command').optional(),
    ...SHELL_KEYS,
  },
  { error: expected('a mapping', '`- env: { name: TF_VAR_region, value: eu-west-1 }`') },
);

type IssueSink = { issues: z.core.$ZodRawIssue[] };

type ShellKeys = { shell?: string | undefined; shellArgs?: string[] | undefined; shell_args?: string[] | undefined };

/**
 * The step's shell and its arguments, or null after reporting a problem: both spellings of the
 * arguments at once, or arguments (or a shell) where they would do nothing, as Atlantis refuses.
 */
function shellOf(parsed: ShellKeys, hasCommand: boolean, name: string, input: unknown, ctx: IssueSink): { shell?: string; shellArgs?: string[] } | null {
  const problem = (key: string, message: string): null => {
    ctx.issues.push({ code: 'custom', message, input, path: [name, key] });
    return null;
  };
  if (parsed.shellArgs !== undefined && parsed.shell_args !== undefined) return problem('shell_args', 'repeats `shellArgs`: keep one of them (`shellArgs` is Atlantis\'s spelling)');
  const args = parsed.shellArgs ?? parsed.shell_args;
  if (parsed.shell !== undefined && !hasCommand) return problem('shell', 'only applies with `command`: remove it, or set `command`');
  if (args !== undefined && parsed.shell === undefined) {
    return problem(parsed.shellArgs === undefined ? 'shell_args' : 'shellArgs', 'only applies with `shell`: add `shell: sh` (the default shell), or remove it');
  }
  const out: { shell?: string; shellArgs?: string[] } = {};
  if (parsed.shell !== undefined) out.shell = parsed.shell;
  if (args !== undefined) out.shellArgs = args;
  return out;
}

/** Runs `schema` on `value`, moving its issues under `prefix`; unknown keys name the nearest valid one. */
function parseInto<T>(schema: z.ZodType<T>, value: unknown, prefix: KeyPath, place: string, ctx: IssueSink): T | null {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  const known = shape === undefined ? [] : Object.keys(shape);
  for (const issue of result.error.issues) {
    const path = [...prefix, ...issue.path.filter((s): s is string | number => typeof s !== 'symbol')];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) ctx.issues.push({ code: 'custom', message: unknownKeyMessage(key, known, place), input: value, path: [...path, key] });
    } else {
      ctx.issues.push({ code: 'custom', message: issue.message, input: value, path });
    }
  }
  return null;
}

function stepFromName(name: string, ctx: IssueSink, input: unknown): ParsedStep | null {
  if ((BUILT_IN_STEPS as readonly string[]).includes(name)) return { kind: name as (typeof BUILT_IN_STEPS)[number], extraArgs: [] };
  if (name === 'show') return { kind: 'show' };
  if ((UNSUPPORTED_STEPS as readonly string[]).includes(name)) return { kind: 'unsupported', name };
  const message =
    name === 'run' || name === 'env' || name === 'multienv'
      ? `\`${name}\` needs arguments: write \`- run: my-command\`, \`- multienv: my-command\` or \`- env: { name: X, value: y }\``
      : `\`${name}\` is not a step: use ${STEP_LIST} (for a shell command write \`- run: ${name}\`)`;
  ctx.issues.push({ code: 'custom', message, input });
  return null;
}

/** One step in any of its YAML forms. */
function parseStep(input: unknown, ctx: IssueSink): ParsedStep | null {
  if (typeof input === 'string') return stepFromName(input, ctx, input);
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    ctx.issues.push({ code: 'custom', message: `is not a step: write a step name (${STEP_LIST}) or a one-key mapping such as \`- run: make lint\``, input });
    return null;
  }
  const keys = Object.keys(input);
  const [name] = keys;
  if (name === undefined || keys.length !== 1) {
    ctx.issues.push({ code: 'custom', message: `must have exactly one key (the step name), found ${keys.length === 0 ? 'none' : keys.join(', ')}: split it into one step per item`, input });
    return null;
  }
  const args: unknown = (input as Record<string, unknown>)[name];
  if ((BUILT_IN_STEPS as readonly string[]).includes(name)) {
    const parsed = parseInto(BuiltInStepArgsSchema, args ?? {}, [name], `of a built-in step (only extra_args)`, ctx);
    return parsed === null ? null : { kind: name as (typeof BUILT_IN_STEPS)[number], extraArgs: parsed.extra_args };
  }
  if (name === 'show') {
    // Atlantis's show step ignores extra_args; refusing them says so instead of dropping them.
    const parsed = parseInto(BuiltInStepArgsSchema, args ?? {}, [name], 'of a show step (only extra_args)', ctx);
    if (parsed === null) return null;
    if (parsed.extra_args.length === 0) return { kind: 'show' };
    ctx.issues.push({ code: 'custom', message: 'takes no arguments: `terraform show -json` of the plan is all it runs; write `- show`', input, path: [name, 'extra_args'] });
    return null;
  }
  if ((UNSUPPORTED_STEPS as readonly string[]).includes(name)) return { kind: 'unsupported', name };
  if (name === 'run') {
    const parsed = parseInto(RunStepArgsSchema, typeof args === 'string' ? { command: args } : args, typeof args === 'string' ? [] : [name], 'of a run step', ctx);
    if (parsed === null) return null;
    const custom = parsed.output === 'custom_regex' || parsed.output === 'strip_refreshing_with_custom_regex';
    if (custom !== (parsed.regex_filter !== undefined)) {
      // As in Atlantis: the custom_regex outputs need regex_filter, and only they take it.
      const message = custom ? `\`output: ${parsed.output}\` needs \`regex_filter\`: add the regular expression whose matches are redacted` : 'only applies with `output: custom_regex` or `strip_refreshing_with_custom_regex`: set one of those, or remove `regex_filter`';
      ctx.issues.push({ code: 'custom', message, input, path: [name, custom ? 'output' : 'regex_filter'] });
      return null;
    }
    const shell = shellOf(parsed, true, name, input, ctx);
    if (shell === null) return null;
    const step: Step = { kind: 'run', command: parsed.command, output: parsed.output, ...shell };
    if (parsed.regex_filter !== undefined) step.regexFilter = parsed.regex_filter;
    return step;
  }
  if (name === 'multienv') {
    const parsed = parseInto(MultiEnvStepArgsSchema, typeof args === 'string' ? { command: args } : args, typeof args === 'string' ? [] : [name], 'of a multienv step', ctx);
    if (parsed === null) return null;
    const shell = shellOf(parsed, true, name, input, ctx);
    return shell === null ? null : { kind: 'multienv', command: parsed.command, output: parsed.output, ...shell };
  }
  if (name === 'env') {
    const parsed = parseInto(EnvStepArgsSchema, args, [name], 'of an env step', ctx);
    if (parsed === null) return null;
    if ((parsed.value === undefined) === (parsed.command === undefined)) {
      ctx.issues.push({ code: 'custom', message: 'needs exactly one of `value` or `command`: keep one', input, path: [name] });
      return null;
    }
    const shell = shellOf(parsed, parsed.command !== undefined, name, input, ctx);
    if (shell === null) return null;
    const step: Step = { kind: 'env', name: parsed.name, ...shell };
    if (parsed.value !== undefined) step.value = parsed.value;
    if (parsed.command !== undefined) step.command = parsed.command;
    return step;
  }
  return stepFromName(name, ctx, input);
}

export const StepSchema = z.unknown().transform((input, ctx): ParsedStep => parseStep(input, ctx) ?? z.NEVER);

export const StageSchema = z.strictObject(
  { steps: z.array(StepSchema, { error: expected('a list of steps', '`steps: [init, plan]`') }).optional() },
  { error: expected('a mapping with `steps`', '`plan: { steps: [init, plan] }`') },
);

export const WorkflowSchema = z
  .strictObject(
    {
      plan: StageSchema.optional(),
      apply: StageSchema.optional(),
      policy_check: StageSchema.optional(),
      import: StageSchema.optional(),
      state_rm: StageSchema.optional(),
    },
    { error: expected('a mapping of stages', '`plan: { steps: [init, plan] }`') },
  )
  .default({});

export const WorkflowNameSchema = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'workflow names may only use letters, digits, -, _ and .');

export const WorkflowsSchema = z.record(WorkflowNameSchema, WorkflowSchema, { error: expected('a mapping of workflow names', '`workflows: { custom: { plan: { steps: [init, plan] } } }`') });

export type ParsedWorkflow = z.output<typeof WorkflowSchema>;

const UNSUPPORTED_STAGES = ['policy_check', 'import', 'state_rm'] as const;

/**
 * A validated workflow, normalised: a stage that is absent (or has no `steps`) is Atlantis's
 * default stage; unsupported steps are dropped and unsupported stages ignored, each with a warning.
 */
export function toWorkflow(parsed: ParsedWorkflow, at: KeyPath, warnings: string[]): Workflow {
  const defaults = builtInDefaultWorkflow();
  for (const stage of UNSUPPORTED_STAGES) {
    if (parsed[stage] !== undefined) warnings.push(`\`${formatKeyPath([...at, stage])}\` is not supported by Tideline yet: the stage is ignored`);
  }
  function stage(name: 'plan' | 'apply'): Step[] {
    const steps = parsed[name]?.steps;
    if (steps === undefined) return defaults[name];
    const kept: Step[] = [];
    for (const [index, step] of steps.entries()) {
      if (step.kind === 'unsupported') {
        warnings.push(`\`${formatKeyPath([...at, name, 'steps', index])}\` (\`${step.name}\`) is not supported by Tideline yet: the step is skipped`);
      } else {
        kept.push(step);
      }
    }
    return kept;
  }
  return { plan: stage('plan'), apply: stage('apply') };
}
