// The order to run a set of projects in: execution_order_group ascending; inside a group, waves
// that respect depends_on (a project runs after every project it depends on that is in the same
// set). Projects of one wave may run in parallel.

import { compareProjects } from './discover.js';
import type { Project } from './types.js';

function groupOf(project: Project): number {
  return project.executionOrderGroup ?? 0;
}

/**
 * Waves in run order. A dependency outside the set, or in an earlier group, is already satisfied;
 * one in a later group cannot be (the repo config refuses it) and is ignored here. Should a cycle
 * slip through, its projects form one last wave rather than being dropped.
 */
export function executionWaves(projects: readonly Project[]): Project[][] {
  const groups = new Map<number, Project[]>();
  for (const project of projects) groups.set(groupOf(project), [...(groups.get(groupOf(project)) ?? []), project]);
  const waves: Project[][] = [];
  for (const group of [...groups.keys()].sort((a, b) => a - b)) {
    let pending = [...(groups.get(group) ?? [])].sort(compareProjects);
    const inGroup = new Set(pending.flatMap((project) => (project.name === undefined ? [] : [project.name])));
    const done = new Set<string>();
    while (pending.length > 0) {
      const ready = pending.filter((project) => (project.dependsOn ?? []).every((dep) => !inGroup.has(dep) || done.has(dep)));
      const wave = ready.length > 0 ? ready : pending;
      waves.push(wave);
      const placed = new Set(wave);
      for (const project of wave) if (project.name !== undefined) done.add(project.name);
      pending = pending.filter((project) => !placed.has(project));
    }
  }
  return waves;
}
