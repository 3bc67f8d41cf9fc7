// The GitHub double: a loopback GitHub (REST checked against GitHub's OpenAPI description, real
// git repositories, signed webhooks built from GitHub's example payloads).

export { startGitHubDouble, waitFor, type StartedGitHubDouble } from './double.js';
export { signBody } from './webhook-delivery.js';
export type {
  DeliverOptions,
  DeliveryResult,
  DoubleApp,
  DoubleComment,
  DoubleIssue,
  DoubleLabel,
  DoublePermission,
  DoubleStatus,
  FileChanges,
  GitHubDouble,
  GitHubDoubleOptions,
  HeldRequest,
  InjectedFailure,
  InstallationAction,
  InstallationRepositoriesAction,
  PullEventAction,
  ReviewState,
} from './types.js';
