// Hands on the names other modules use; `server/main.ts` reads the settings once and passes them down.

export { readEnv, formatProblems, allowlisted } from './read-env.js';
export { parseCron } from './cron.js';
export type { CronSchedule, CronParseResult } from './cron.js';
export { CHILD_ENV_NAMES } from './child-env.js';
export { LOG_LEVELS } from './settings.js';
export type { ConfigProblem, GitHubAuth, LogLevel, ReadEnvOptions, ReadEnvResult, Settings } from './settings.js';
