// The shape of each job type's stored payload, checked when a job is read back. A payload
// written by another Tideline version may parse as JSON and still lack what this version
// reads before any handler runs (the interrupted notice at start-up reads `repo` and
// `command`); such a job fails once instead of stopping the server from starting.

import { z } from 'zod';
import type { JobType } from './types.js';

const RepoInfoSchema = z.looseObject({
  owner: z.string(),
  name: z.string(),
  fullName: z.string(),
  cloneUrl: z.string(),
  defaultBranch: z.string(),
});

const CommandSchema = z.looseObject({
  name: z.enum(['plan', 'apply', 'unlock', 'help', 'version']),
  selector: z.looseObject({ project: z.string().optional(), dir: z.string().optional(), workspace: z.string().optional() }),
  extraArgs: z.array(z.string()),
});

const SettleSchema = z.looseObject({ sha: z.string(), context: z.string(), state: z.enum(['success', 'failure', 'error']).optional(), description: z.string(), targetUrl: z.string().optional() });

export const PAYLOAD_SCHEMAS: Record<JobType, z.ZodType> = {
  command: z.looseObject({
    repo: RepoInfoSchema,
    pull: z.number().int(),
    command: CommandSchema,
    actor: z.string(),
    commentUrl: z.string(),
    deliveryId: z.string(),
    autoplan: z.boolean().optional(),
  }),
  release: z.looseObject({ repo: RepoInfoSchema, pull: z.number().int(), merged: z.boolean(), actor: z.string(), deliveryId: z.string() }),
  reply: z.looseObject({ repo: RepoInfoSchema, pull: z.number().int(), body: z.string().optional(), settle: z.array(SettleSchema).optional() }),
  drift: z.looseObject({ repo: RepoInfoSchema, trigger: z.enum(['schedule', 'api']) }),
};

/** Null when `payload` has the shape of a `type` job, else where it does not. */
export function payloadProblem(type: JobType, payload: unknown): string | null {
  const result = PAYLOAD_SCHEMAS[type].safeParse(payload);
  if (result.success) return null;
  const issue = result.error.issues[0];
  const at = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
  return `its payload is not a ${type} job${at}: ${issue?.message ?? 'invalid'}`;
}
