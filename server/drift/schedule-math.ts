// Cron arithmetic for drift schedules, on croner (server-local time, as cron itself): the next
// slot after an instant, and whether a slot fell in a window.

import { Cron } from 'croner';

export const SCHEDULE_OFF = 'off';

/** A paused croner job: used for its pattern arithmetic only, it never fires. */
function pattern(schedule: string): Cron {
  return new Cron(schedule, { paused: true, mode: '5-or-6-parts' });
}

/** The first slot strictly after `after`; null when the schedule is `off` or has no future slot. */
export function nextSlot(schedule: string, after: Date): Date | null {
  if (schedule === SCHEDULE_OFF) return null;
  return pattern(schedule).nextRun(after);
}

/** Whether `schedule` has a slot in (`after`, `until`]. `after` null: never run, so yes. */
export function slotBetween(schedule: string, after: Date | null, until: Date): boolean {
  if (schedule === SCHEDULE_OFF) return false;
  if (after === null) return true;
  const next = nextSlot(schedule, after);
  return next !== null && next.getTime() <= until.getTime();
}
