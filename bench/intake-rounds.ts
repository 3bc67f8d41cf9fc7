// The webhook intake figures of `npm run bench`: signed deliveries of one body at fixed
// concurrency from a sender process of its own (GitHub is another machine), each with its own
// delivery id (intake-load.ts). Two rounds of `deliveries`, from a fresh sender each time. The
// first finds the intake code not yet optimised by V8 (the server has so far run plans, and 50
// warm-up deliveries); the second is the steady state a long-running server works in. The
// target is judged on the second; the first is printed beside it.

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { signBody } from '../sandbox/github/index.js';

export const INTAKE_TARGET = { perSecond: 500, p99Ms: 50 } as const;

export function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/** Runs a command without blocking the event loop (the server under test may live in it). */
function execFileText(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => (err === null ? resolve(stdout) : reject(err)));
  });
}

interface Round {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  refused: number;
  meetsTarget: boolean;
}

export async function measureIntake(
  eventsUrl: string,
  secret: string,
  body: string,
  bodyFile: string,
  deliveries: number,
  concurrency: number,
): Promise<Record<string, unknown>> {
  writeFileSync(bodyFile, body);
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const sender = fileURLToPath(new URL('intake-load.ts', import.meta.url));
  const round = async (): Promise<Round> => {
    const load = JSON.parse(await execFileText(tsx, [sender, eventsUrl, bodyFile, signBody(secret, body), String(deliveries), String(concurrency)])) as {
      refused: number;
      seconds: number;
      latencies: number[];
    };
    const sorted = load.latencies.sort((a, b) => a - b);
    const perSecond = Math.round(deliveries / load.seconds);
    const p99Ms = Number(percentile(sorted, 99).toFixed(2));
    return { perSecond, p50Ms: Number(percentile(sorted, 50).toFixed(2)), p99Ms, refused: load.refused, meetsTarget: perSecond >= INTAKE_TARGET.perSecond && p99Ms < INTAKE_TARGET.p99Ms };
  };
  const first = await round();
  const steady = await round();
  const { meetsTarget, ...figures } = steady;
  return { deliveries, concurrency, ...figures, target: INTAKE_TARGET, meetsTarget, firstRound: first };
}
