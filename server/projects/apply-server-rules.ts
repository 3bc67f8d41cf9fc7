// Checks a repo config against the server rules for its repository and settles each project's
// effective apply requirements and workflow (Atlantis's ValidateRepoCfg + MergeProjectCfg):
//   - `apply_requirements`, `plan_requirements`, `workflow` and `drift` are restricted: a repo config may set them
//     only where `allowed_overrides` lists them;
//   - repo-defined `workflows` need `allow_custom_workflows: true`;
//   - a workflow must be defined (repo, server, or the built-in `default`) and, when the server
//     lists `allowed_workflows`, be one of them (a repo-defined one is always allowed).
// A refusal names the server-side setting that would allow the key.

import { builtInDefaultWorkflow, DEFAULT_WORKFLOW_NAME } from '../../config/server-repos-types.js';
import type { AllowedOverride, EffectiveRepoRules, Workflow } from '../../config/server-repos-types.js';
import type { ConfigProblem, Project, ProjectDefaults, RepoConfig } from './types.js';

export type ApplyServerRulesResult =
  | {
      ok: true;
      /** The repo config's projects with effective `applyRequirements` and (terraform) `workflow`. */
      projects: Project[];
      /** Every workflow these projects may name: built-in/server `default`, server workflows, repo workflows where allowed. */
      workflows: Record<string, Workflow>;
      /** For projects the config does not declare (autodiscovered, `-d`). */
      defaults: ProjectDefaults;
    }
  | { ok: false; problems: ConfigProblem[] };

function override(key: AllowedOverride): string {
  return `repo config may not set \`${key}\`: the server config needs \`allowed_overrides: [${key}]\` for this repository`;
}

export function applyServerRules(repo: RepoConfig | null, rules: EffectiveRepoRules, serverWorkflows: Record<string, Workflow>): ApplyServerRulesResult {
  const workflows: Record<string, Workflow> = { [DEFAULT_WORKFLOW_NAME]: builtInDefaultWorkflow(), ...serverWorkflows };
  const defaults: ProjectDefaults = {
    applyRequirements: [...rules.applyRequirements],
    planRequirements: [...rules.planRequirements],
    workflow: rules.workflow ?? DEFAULT_WORKFLOW_NAME,
  };
  if (repo === null) return { ok: true, projects: [], workflows, defaults };

  const problems: ConfigProblem[] = [];
  function refuse(path: string, message: string): void {
    const problem: ConfigProblem = { path, message };
    const line = repo?.lines?.[path];
    if (line !== undefined) problem.line = line;
    problems.push(problem);
  }
  const allowed = (key: AllowedOverride): boolean => rules.allowedOverrides.includes(key);
  const repoWorkflowNames = Object.keys(repo.workflows);
  if (repoWorkflowNames.length > 0) {
    if (rules.allowCustomWorkflows) Object.assign(workflows, repo.workflows);
    else refuse('workflows', 'repo config may not define workflows: the server config needs `allow_custom_workflows: true` for this repository');
  }
  if (repo.drift !== undefined && !allowed('drift')) refuse('drift', override('drift'));

  const projects: Project[] = [];
  for (const [index, project] of repo.projects.entries()) {
    const at = `projects[${index}]`;
    const effective: Project = { ...project };
    if (project.applyRequirements !== undefined && !allowed('apply_requirements')) refuse(`${at}.apply_requirements`, override('apply_requirements'));
    effective.applyRequirements = [...(project.applyRequirements !== undefined && allowed('apply_requirements') ? project.applyRequirements : rules.applyRequirements)];
    if (project.planRequirements !== undefined && !allowed('plan_requirements')) refuse(`${at}.plan_requirements`, override('plan_requirements'));
    const planRequirements = project.planRequirements !== undefined && allowed('plan_requirements') ? project.planRequirements : rules.planRequirements;
    if (planRequirements.length > 0) effective.planRequirements = [...planRequirements];
    else delete effective.planRequirements;
    if (project.drift !== undefined && !allowed('drift')) refuse(`${at}.drift`, override('drift'));

    const asked = project.workflow;
    if (asked !== undefined) {
      const definedInRepo = repoWorkflowNames.includes(asked);
      if (!allowed('workflow')) {
        refuse(`${at}.workflow`, override('workflow'));
      } else if (!Object.hasOwn(workflows, asked) && !definedInRepo) {
        const known = Object.keys(workflows).sort().map((name) => `\`${name}\``).join(', ');
        refuse(`${at}.workflow`, `names workflow \`${asked}\`, which is defined neither in this file nor in the server config: define it under \`workflows:\` or use one of ${known}`);
      } else if (rules.allowedWorkflows.length > 0 && asked !== DEFAULT_WORKFLOW_NAME && !(definedInRepo && rules.allowCustomWorkflows) && !rules.allowedWorkflows.includes(asked)) {
        refuse(`${at}.workflow`, `may not use workflow \`${asked}\`: the server config's \`allowed_workflows\` for this repository is [${rules.allowedWorkflows.join(', ')}]; use one of those or add \`${asked}\` there`);
      }
    }
    if (project.kind === 'terraform') effective.workflow = asked !== undefined && allowed('workflow') ? asked : defaults.workflow;
    else delete effective.workflow;
    projects.push(effective);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, projects, workflows, defaults };
}
