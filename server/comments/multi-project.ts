// The frame shared by plan and apply comments: "Ran Plan for …" for one project, or a linked
// list of N projects followed by one numbered section per project, separated by `---`.

import type { Project } from '../projects/types.js';
import { headingAnchor } from './markdown.js';
import { projectLabel } from './project.js';

export interface Section {
  project: Project;
  /** The rendered body of this project's result. */
  body: string;
}

/** `Ran Plan for dir: \`.\` workspace: \`default\`` */
export function singleProjectHeader(command: 'Plan' | 'Apply', project: Project): string {
  return `Ran ${command} for ${projectLabel(project)}`;
}

/**
 * A list linking to each section's heading, then the sections. Headings are numbered, which
 * keeps their anchors unique even when two labels are alike.
 */
export function multiProjectBody(command: 'Plan' | 'Apply', sections: readonly Section[]): string {
  const blocks = [`Ran ${command} for ${sections.length} projects:`];
  const list: string[] = [];
  for (const [i, s] of sections.entries()) {
    const label = projectLabel(s.project);
    const heading = `${i + 1}. ${label}`;
    list.push(`${i + 1}. [${label}](#${headingAnchor(heading)})`);
    blocks.push(`### ${heading}\n\n${s.body}\n\n---`);
  }
  blocks.splice(1, 0, list.join('\n'));
  return blocks.join('\n\n');
}
