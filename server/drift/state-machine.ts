// The drift state machine of one project, as a pure function: what was known (the last state and
// the open drift's fingerprint) and what a check found give the next state and the alert event.
//
//   no open drift + drifted            → detected   (raise the alert)
//   open drift    + drifted, same fp   → nothing    (only last_seen moves)
//   open drift    + drifted, other fp  → changed    (update the alert)
//   open drift    + clean              → resolved   (resolve the alert)
//   any           + drifted, re-applied→ remediated (the alert says what was corrected; state clean)
//   any           + error / skipped    → nothing    (an open drift stays open: an error is never
//                                                    drift, and never proof that drift is gone)

import type { DriftEvent, DriftState } from './types.js';

export interface KnownDrift {
  /** The last check's state; null when the project was never checked. */
  state: DriftState | null;
  /** The open drift's fingerprint; null when no drift is open. */
  fingerprint: string | null;
}

export interface DriftObservation {
  state: DriftState;
  /** Set when state is `drifted`. */
  fingerprint: string | null;
  /** The drift was re-applied successfully in this sweep. */
  remediated?: boolean;
}

export interface DriftTransition {
  state: DriftState;
  /** The open drift's fingerprint afterwards. */
  fingerprint: string | null;
  event: DriftEvent | null;
  /** The state differs from the last check's (a `drift.transition` audit record). */
  stateChanged: boolean;
  /** A drift opened now: its first_seen starts here. */
  opened: boolean;
  /** The open drift was seen again (last_seen moves). */
  seenAgain: boolean;
}

export class DriftStateError extends Error {
  override readonly name = 'DriftStateError';
}

export function nextDriftState(known: KnownDrift, seen: DriftObservation): DriftTransition {
  const open = known.fingerprint !== null;
  const changedFrom = (state: DriftState): boolean => known.state !== state;
  if (seen.state === 'drifted' && seen.fingerprint === null) {
    throw new DriftStateError('a drifted observation needs a fingerprint');
  }
  if (seen.state === 'drifted' && seen.remediated === true) {
    return { state: 'clean', fingerprint: null, event: 'remediated', stateChanged: true, opened: false, seenAgain: false };
  }
  switch (seen.state) {
    case 'drifted': {
      const fingerprint = seen.fingerprint;
      if (!open) return { state: 'drifted', fingerprint, event: 'detected', stateChanged: changedFrom('drifted'), opened: true, seenAgain: false };
      if (fingerprint === known.fingerprint) return { state: 'drifted', fingerprint, event: null, stateChanged: changedFrom('drifted'), opened: false, seenAgain: true };
      return { state: 'drifted', fingerprint, event: 'changed', stateChanged: changedFrom('drifted'), opened: false, seenAgain: true };
    }
    case 'clean':
      return { state: 'clean', fingerprint: null, event: open ? 'resolved' : null, stateChanged: changedFrom('clean'), opened: false, seenAgain: false };
    case 'error':
    case 'skipped':
      return { state: seen.state, fingerprint: known.fingerprint, event: null, stateChanged: changedFrom(seen.state), opened: false, seenAgain: false };
  }
}
