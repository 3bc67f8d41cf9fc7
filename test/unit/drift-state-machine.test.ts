import { describe, expect, it } from 'vitest';
import { DriftStateError, nextDriftState, type DriftObservation, type KnownDrift } from '../../server/drift/state-machine.js';
import type { DriftEvent, DriftState } from '../../server/drift/types.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

type Row = [string, KnownDrift, DriftObservation, { state: DriftState; fingerprint: string | null; event: DriftEvent | null; stateChanged: boolean; opened: boolean; seenAgain: boolean }];

const rows: Row[] = [
  ['first check, clean', { state: null, fingerprint: null }, { state: 'clean', fingerprint: null }, { state: 'clean', fingerprint: null, event: null, stateChanged: true, opened: false, seenAgain: false }],
  ['first check, drifted: raises', { state: null, fingerprint: null }, { state: 'drifted', fingerprint: A }, { state: 'drifted', fingerprint: A, event: 'detected', stateChanged: true, opened: true, seenAgain: false }],
  ['clean to drifted: raises', { state: 'clean', fingerprint: null }, { state: 'drifted', fingerprint: A }, { state: 'drifted', fingerprint: A, event: 'detected', stateChanged: true, opened: true, seenAgain: false }],
  ['same fingerprint: only last_seen', { state: 'drifted', fingerprint: A }, { state: 'drifted', fingerprint: A }, { state: 'drifted', fingerprint: A, event: null, stateChanged: false, opened: false, seenAgain: true }],
  ['changed fingerprint: updates', { state: 'drifted', fingerprint: A }, { state: 'drifted', fingerprint: B }, { state: 'drifted', fingerprint: B, event: 'changed', stateChanged: false, opened: false, seenAgain: true }],
  ['drift gone: resolves', { state: 'drifted', fingerprint: A }, { state: 'clean', fingerprint: null }, { state: 'clean', fingerprint: null, event: 'resolved', stateChanged: true, opened: false, seenAgain: false }],
  ['clean again: nothing', { state: 'clean', fingerprint: null }, { state: 'clean', fingerprint: null }, { state: 'clean', fingerprint: null, event: null, stateChanged: false, opened: false, seenAgain: false }],
  ['error while drifted: drift stays open, no alert', { state: 'drifted', fingerprint: A }, { state: 'error', fingerprint: null }, { state: 'error', fingerprint: A, event: null, stateChanged: true, opened: false, seenAgain: false }],
  ['error while clean: never drift', { state: 'clean', fingerprint: null }, { state: 'error', fingerprint: null }, { state: 'error', fingerprint: null, event: null, stateChanged: true, opened: false, seenAgain: false }],
  ['same drift after an error: not new', { state: 'error', fingerprint: A }, { state: 'drifted', fingerprint: A }, { state: 'drifted', fingerprint: A, event: null, stateChanged: true, opened: false, seenAgain: true }],
  ['clean after an error with open drift: resolves', { state: 'error', fingerprint: A }, { state: 'clean', fingerprint: null }, { state: 'clean', fingerprint: null, event: 'resolved', stateChanged: true, opened: false, seenAgain: false }],
  ['skipped while drifted: drift stays open', { state: 'drifted', fingerprint: A }, { state: 'skipped', fingerprint: null }, { state: 'skipped', fingerprint: A, event: null, stateChanged: true, opened: false, seenAgain: false }],
  ['skipped twice: nothing', { state: 'skipped', fingerprint: null }, { state: 'skipped', fingerprint: null }, { state: 'skipped', fingerprint: null, event: null, stateChanged: false, opened: false, seenAgain: false }],
  ['new drift re-applied: corrected, clean', { state: 'clean', fingerprint: null }, { state: 'drifted', fingerprint: A, remediated: true }, { state: 'clean', fingerprint: null, event: 'remediated', stateChanged: true, opened: false, seenAgain: false }],
  ['open drift re-applied: corrected, clean', { state: 'drifted', fingerprint: A }, { state: 'drifted', fingerprint: A, remediated: true }, { state: 'clean', fingerprint: null, event: 'remediated', stateChanged: true, opened: false, seenAgain: false }],
  ['re-apply failed: still drift', { state: 'clean', fingerprint: null }, { state: 'drifted', fingerprint: A, remediated: false }, { state: 'drifted', fingerprint: A, event: 'detected', stateChanged: true, opened: true, seenAgain: false }],
];

describe('drift state machine', () => {
  it.each(rows)('%s', (_name, known, seen, expected) => {
    expect(nextDriftState(known, seen)).toEqual(expected);
  });

  it('refuses a drifted observation without a fingerprint', () => {
    expect(() => nextDriftState({ state: null, fingerprint: null }, { state: 'drifted', fingerprint: null })).toThrow(DriftStateError);
  });
});
