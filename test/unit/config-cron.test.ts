import { describe, expect, it } from 'vitest';
import { parseCron } from '../../config/cron.js';
import type { CronSchedule } from '../../config/cron.js';

function scheduleOf(expression: string): CronSchedule {
  const result = parseCron(expression);
  if (!result.ok) {
    throw new Error(result.message);
  }
  return result.schedule;
}

describe('parseCron', () => {
  it.each([
    ['0 */6 * * *', { seconds: [0], minutes: [0], hours: [0, 6, 12, 18] }],
    ['*/15 9-17 * * mon-fri', { minutes: [0, 15, 30, 45], hours: [9, 10, 11, 12, 13, 14, 15, 16, 17], daysOfWeek: [1, 2, 3, 4, 5] }],
    ['0 0 1,15 jan,JUL *', { daysOfMonth: [1, 15], months: [1, 7], dayOfMonthRestricted: true, dayOfWeekRestricted: false }],
    ['30 0 0 * * 7', { seconds: [30], minutes: [0], hours: [0], daysOfWeek: [0] }],
    ['5/20 * * * *', { minutes: [5, 25, 45] }],
    ['0 0 */2 * sun', { daysOfMonth: Array.from({ length: 16 }, (_, i) => 1 + 2 * i), dayOfMonthRestricted: false, dayOfWeekRestricted: true }],
    ['  0   0 * * *  ', { minutes: [0], hours: [0] }],
  ])('reads %j', (expression, expected) => {
    expect(scheduleOf(expression)).toMatchObject(expected);
  });

  it.each([
    ['', /0 fields where cron has 5/],
    ['* * * *', /4 fields where cron has 5, or 6 with seconds first/],
    ['* * * * * * *', /7 fields/],
    ['60 * * * *', /minute field: `60` is out of range 0-59/],
    ['0 24 * * *', /hour field: `24` is out of range 0-23/],
    ['0 0 0 * *', /day of month field: `0` is out of range 1-31/],
    ['0 0 * 13 *', /month field: `13` is out of range 1-12/],
    ['0 0 * * 8', /day of week field: `8` is out of range 0-7/],
    ['60 0 0 * * *', /second field: `60` is out of range/],
    ['0 0 * * funday', /day of week field: `funday` is not a number or range \(names like sun are allowed here\)/],
    ['0 0 * * mon-', /`mon-` is not a number or range/],
    ['*/0 * * * *', /`\*\/0` has step `0`/],
    ['1/2/3 * * * *', /`1\/2\/3` is not a cron item/],
    ['5-1 * * * *', /`5-1` runs backwards/],
    ['0,,5 * * * *', /is not a cron item/],
    ['? * * * *', /`\?` is not a number or range/],
    ['@daily', /1 field/],
  ])('refuses %j', (expression, message) => {
    const result = parseCron(expression);
    expect(result.ok ? 'accepted' : result.message).toMatch(message);
  });
});
