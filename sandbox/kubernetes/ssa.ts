// Server-side apply and update with field ownership, after the real server's
// structured-merge-diff `Updater` (merge/update.go): an apply merges the configuration into the
// live object, removes fields its manager applied before and no longer applies (unless another
// manager owns them), and fails with conflicts when it would change a value another manager owns,
// unless forced; an update (kubectl edit, a controller) never conflicts and takes over the fields
// it changes.

import {
  compare,
  deepEqual,
  joinPath,
  members,
  merge,
  removePath,
  splitPath,
  union,
  userFields,
  type JsonObject,
} from './fields.js';

export interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fields: Set<string>;
}

export interface FieldConflict {
  entry: ManagerEntry;
  /** Path key (fields.ts). */
  path: string;
}

export class FieldConflictError extends Error {
  override readonly name = 'FieldConflictError';
  readonly conflicts: FieldConflict[];

  constructor(conflicts: FieldConflict[]) {
    super(`${conflicts.length} field manager conflict(s)`);
    this.conflicts = conflicts;
  }
}

export interface ManagedObject {
  object: JsonObject;
  managers: ManagerEntry[];
}

export interface ManagedResult extends ManagedObject {
  /** False for a no-op: nothing to write, resourceVersion stays. */
  changed: boolean;
}

interface WriteContext {
  manager: string;
  apiVersion: string;
  builtIn: boolean;
  now: string;
  /** Server-side normalisation of the result (e.g. a Secret's stringData into data). */
  finish: (object: JsonObject) => void;
}

function sameSets(a: readonly ManagerEntry[], b: readonly ManagerEntry[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((entry, i) => {
    const other = b[i];
    return (
      other !== undefined &&
      entry.manager === other.manager &&
      entry.operation === other.operation &&
      entry.apiVersion === other.apiVersion &&
      entry.fields.size === other.fields.size &&
      [...entry.fields].every((key) => other.fields.has(key))
    );
  });
}

function withoutFields(entry: ManagerEntry, drop: ReadonlySet<string>): ManagerEntry {
  const fields = new Set([...entry.fields].filter((key) => !drop.has(key)));
  return { ...entry, fields };
}

/**
 * Applies `config` as `ctx.manager` to `current` (the live object, or a skeleton holding only
 * apiVersion, kind and metadata name/namespace when it does not exist yet). Throws
 * FieldConflictError when `force` is false and another manager owns a value it changes.
 */
export function applyConfiguration(
  current: ManagedObject,
  config: JsonObject,
  force: boolean,
  ctx: WriteContext,
): ManagedResult {
  const applied = members(config, ctx.builtIn);
  const newSet = new Set(applied.keys());
  const mineAt = current.managers.findIndex((m) => m.manager === ctx.manager && m.operation === 'Apply');
  const lastSet = current.managers[mineAt]?.fields ?? new Set<string>();
  const others = current.managers.filter((_, i) => i !== mineAt);

  const merged = merge(current.object, userFields(config), null, ctx.builtIn) as JsonObject;
  const ownedByOthers = union(...others.map((m) => m.fields));
  const stale = new Set([...lastSet].filter((key) => !newSet.has(key) && !ownedByOthers.has(key)));
  // A removed list item goes whole: its fields are not removed one by one first (the item could
  // no longer be found by its key once its key field was gone).
  const outermost = [...stale].filter((key) => {
    const path = splitPath(key);
    return !path.some((_, i) => i > 0 && stale.has(joinPath(path.slice(0, i))));
  });
  for (const key of outermost) removePath(merged, key);
  ctx.finish(merged);

  const diff = compare(members(current.object, ctx.builtIn), members(merged, ctx.builtIn));
  const changedValues = union(diff.modified, diff.added);
  const conflicts: FieldConflict[] = [];
  for (const entry of others) {
    for (const key of entry.fields) if (changedValues.has(key)) conflicts.push({ entry, path: key });
  }
  if (!force && conflicts.length > 0) throw new FieldConflictError(conflicts);

  const taken = new Set(conflicts.map((c) => c.path));
  const drop = union(taken, diff.removed);
  const mine: ManagerEntry = {
    manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, time: ctx.now, fields: newSet,
  };
  const managers: ManagerEntry[] = [];
  for (const [i, entry] of current.managers.entries()) {
    if (i === mineAt) managers.push(mine);
    else {
      const kept = withoutFields(entry, drop);
      if (kept.fields.size > 0) managers.push(kept);
    }
  }
  if (mineAt < 0) managers.push(mine);
  return finishWrite(current, merged, managers);
}

/**
 * Replaces `current` with `updated` as an Update by `ctx.manager` (`kubectl edit`, a merge
 * patch): never conflicts; the fields it adds, changes or removes leave every other manager.
 */
export function updateObject(current: ManagedObject, updated: JsonObject, ctx: WriteContext): ManagedResult {
  ctx.finish(updated);
  const diff = compare(members(current.object, ctx.builtIn), members(updated, ctx.builtIn));
  const touched = union(diff.added, diff.modified, diff.removed);
  const mineAt = current.managers.findIndex((m) => m.manager === ctx.manager && m.operation === 'Update');
  const previous = current.managers[mineAt]?.fields ?? new Set<string>();
  const fields = union(previous, diff.added, diff.modified);
  for (const key of diff.removed) fields.delete(key);
  const mine: ManagerEntry = { manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, time: ctx.now, fields };
  const managers: ManagerEntry[] = [];
  for (const [i, entry] of current.managers.entries()) {
    if (i === mineAt) {
      if (fields.size > 0) managers.push(mine);
      continue;
    }
    const kept = withoutFields(entry, touched);
    if (kept.fields.size > 0) managers.push(kept);
  }
  if (mineAt < 0 && fields.size > 0) managers.push(mine);
  return finishWrite(current, updated, managers);
}

function finishWrite(current: ManagedObject, object: JsonObject, managers: ManagerEntry[]): ManagedResult {
  const sameObject = deepEqual(userFields(current.object), userFields(object));
  if (sameObject && sameSets(current.managers, managers)) {
    return { object: current.object, managers: current.managers, changed: false };
  }
  return { object, managers, changed: true };
}
