// Hands on drift detection's names: the sweep, the scheduler, the API router and the read model.

export { driftApi, type DriftApiOptions } from './api.js';
export { errorCheck, projectCheckers, skippedCheck, terraformChecker, type CheckInput, type ProjectChecker } from './check-project.js';
export { kubernetesChecker } from './check-kubernetes.js';
export { driftFingerprint, normalisePlan } from './fingerprint.js';
export { DRIFT_LABEL, issueTitle } from './render.js';
export { DEFAULT_BRANCH_PULL } from './branch-lock.js';
export { repoSchedule, serverRuleSchedule, startDriftScheduler, type DriftScheduler, type DriftSchedulerOptions } from './scheduler.js';
export { nextDriftState, DriftStateError, type DriftObservation, type DriftTransition, type KnownDrift } from './state-machine.js';
export { driftStates } from './store.js';
export { driftJobKey, driftPlanFile, runDriftSweep, sweepNow, type SweepOptions } from './sweep.js';
export {
  DriftSweepError,
  type DriftAlertConfig,
  type DriftDeps,
  type DriftEvent,
  type DriftProjectState,
  type DriftState,
  type ProjectCheck,
  type ProjectResult,
  type SweepSummary,
} from './types.js';
export { DRIFT_DELIVERY_HEADER, DRIFT_EVENT_HEADER, DRIFT_SIGNATURE_HEADER, driftSignature, verifyDriftSignature, type DriftWebhookPayload } from './webhook.js';

