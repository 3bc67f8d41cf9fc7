// Atlantis's server-side `pre_workflow_hooks` and `post_workflow_hooks` of a `repos:` entry:
//   - run: ./generate.sh
//     description: Generating atlantis.yaml     # default: "Pre workflow hook #<n>"
//     shell: bash                               # default sh
//     shellArgs: -ec                            # default -c (text split on spaces, or a list)
//     commands: plan, apply                     # default: every command
// Only the server config may set them: a repo config has no such key, so a PR cannot add one.

import { z } from 'zod';
import { expected } from './server-repos-yaml.js';
import type { WorkflowHook } from './server-repos-types.js';

export const HOOK_COMMANDS = ['plan', 'apply', 'autoplan', 'unlock'] as const;

const ShellArgsSchema = z
  .union([z.string(), z.array(z.string())], { error: expected('the shell arguments as text or a list', '`shellArgs: -ec`') })
  .transform((args) => (typeof args === 'string' ? args.split(/\s+/).filter((arg) => arg !== '') : args));

export const WorkflowHookSchema = z.strictObject(
  {
    run: z.string({ error: 'is required: give the shell command to run, e.g. `run: ./generate.sh`' }).min(1, 'is empty: give the shell command to run'),
    description: z.string({ error: expected('text', '`description: Generating configs`') }).optional(),
    shell: z.string({ error: expected('the shell to run the command with', '`shell: bash`') }).min(1, 'is empty: name a shell, e.g. bash').optional(),
    shellArgs: ShellArgsSchema.optional(),
    // Atlantis's comma-separated list; a YAML list is read too.
    commands: z
      .union([z.string(), z.array(z.string())], { error: expected('a comma-separated list of commands', '`commands: plan, apply`') })
      .transform((list) => (typeof list === 'string' ? list.split(',') : list).map((name) => name.trim()).filter((name) => name !== ''))
      .pipe(z.array(z.enum(HOOK_COMMANDS, { error: `is not a command a hook can run for: use ${HOOK_COMMANDS.join(', ')}` })))
      .optional(),
  },
  { error: expected('a mapping with `run`', '`- run: ./generate.sh`') },
);

export const WorkflowHooksSchema = z.array(WorkflowHookSchema, { error: expected('a list of hooks', '`[{ run: ./generate.sh }]`') });

export function toWorkflowHook(raw: z.output<typeof WorkflowHookSchema>): WorkflowHook {
  const hook: WorkflowHook = { run: raw.run };
  if (raw.description !== undefined) hook.description = raw.description;
  if (raw.shell !== undefined) hook.shell = raw.shell;
  if (raw.shellArgs !== undefined) hook.shellArgs = raw.shellArgs;
  if (raw.commands !== undefined) hook.commands = raw.commands;
  return hook;
}
