// Hands on the names the pipeline uses: repo config, server rules, project selection and order.

export type {
  ApplyRequirement,
  AutodiscoverMode,
  ConfigProblem,
  DriftSettings,
  Project,
  ProjectDefaults,
  ReadRepoConfigResult,
  RepoConfig,
  RepoConfigFile,
  Step,
  Workflow,
} from './types.js';
export { parseRepoConfig, readRepoConfig, REPO_CONFIG_FILES } from './repo-config.js';
export type { RepoConfigOptions } from './repo-config.js';
export { onBaseBranch } from './branch.js';
export { DEFAULT_WHEN_MODIFIED, KUBERNETES_WHEN_MODIFIED } from './repo-config-schema.js';
export { applyServerRules } from './apply-server-rules.js';
export type { ApplyServerRulesResult } from './apply-server-rules.js';
export { allProjects, selectProjects } from './select.js';
export type { AllProjectsOptions, SelectProjectsInput, SelectProjectsResult } from './select.js';
export { projectsForSelector } from './selector.js';
export type { SelectorResult } from './selector.js';
export { executionWaves } from './execution-waves.js';
export { compareProjects, projectKey } from './discover.js';
export { globToRegExp, globProblem, matchesWhenModified } from './glob.js';
export { checkTerraformDir } from './resolve.js';
export { effectiveRules, parseServerRepoConfig, ruleMatches } from '../../config/server-repos.js';
export type { EffectiveRulesOptions, ParseServerRepoConfigResult } from '../../config/server-repos.js';
export type { EffectiveRepoRules, ServerRepoConfig, ServerRepoRule } from '../../config/server-repos-types.js';
export { builtInDefaultWorkflow, DEFAULT_WORKFLOW_NAME } from '../../config/server-repos-types.js';
