// A small cron reader: enough to validate TIDELINE_DRIFT_SCHEDULE and to hand the scheduler the
// matching values of each field. Five fields (minute hour day-of-month month day-of-week), or six
// with a leading seconds field. Items: `*`, `n`, `a-b`, with an optional `/step`, comma-separated;
// months and weekdays also by three-letter English name. No macros (`@daily`), no `?`, `L`, `W`.

export interface CronSchedule {
  /** `[0]` when the expression has five fields. */
  seconds: number[];
  minutes: number[];
  hours: number[];
  daysOfMonth: number[];
  months: number[];
  /** 0 = Sunday; a `7` in the expression is read as 0. */
  daysOfWeek: number[];
  /** Whether day-of-month / day-of-week restrict the days (cron ORs the two when both do). */
  dayOfMonthRestricted: boolean;
  dayOfWeekRestricted: boolean;
}

export type CronParseResult = { ok: true; schedule: CronSchedule } | { ok: false; message: string };

interface CronField {
  label: string;
  min: number;
  max: number;
  names: readonly string[];
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const SECONDS_FIELD: CronField = { label: 'second', min: 0, max: 59, names: [] };
const FIVE_FIELDS: readonly CronField[] = [
  { label: 'minute', min: 0, max: 59, names: [] },
  { label: 'hour', min: 0, max: 23, names: [] },
  { label: 'day of month', min: 1, max: 31, names: [] },
  { label: 'month', min: 1, max: 12, names: MONTH_NAMES },
  { label: 'day of week', min: 0, max: 7, names: DAY_NAMES },
];

function readValue(text: string, field: CronField): number | null {
  if (/^\d+$/.test(text)) {
    return Number(text);
  }
  const index = field.names.indexOf(text.toLowerCase());
  if (index < 0) {
    return null;
  }
  // Month names count from 1 (jan = 1), weekday names from 0 (sun = 0).
  return field.min + index;
}

/** The values one comma-separated item of `field` selects, or the problem with it. */
function readItem(item: string, field: CronField): number[] | string {
  const [rangeText = '', stepText, extra] = item.split('/');
  if (extra !== undefined || rangeText === '') {
    return `\`${item}\` is not a cron item (write *, n, a-b or a-b/step)`;
  }
  let step = 1;
  if (stepText !== undefined) {
    if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
      return `\`${item}\` has step \`${stepText}\`; a step must be a whole number of at least 1`;
    }
    step = Number(stepText);
  }
  let from = field.min;
  let to = field.max;
  if (rangeText !== '*') {
    const [fromText = '', toText, more] = rangeText.split('-');
    const first = readValue(fromText, field);
    const last = toText === undefined ? (stepText === undefined ? first : field.max) : readValue(toText, field);
    if (more !== undefined || first === null || last === null) {
      return `\`${item}\` is not a number or range${field.names.length > 0 ? ' (names like ' + field.names[0] + ' are allowed here)' : ''}`;
    }
    if (first < field.min || last > field.max) {
      return `\`${item}\` is out of range ${field.min}-${field.max}`;
    }
    if (first > last) {
      return `\`${item}\` runs backwards; write the smaller value first`;
    }
    from = first;
    to = last;
  }
  const values: number[] = [];
  for (let value = from; value <= to; value += step) {
    values.push(value);
  }
  return values;
}

function readField(text: string, field: CronField): number[] | string {
  const selected = new Set<number>();
  for (const item of text.split(',')) {
    const values = readItem(item, field);
    if (typeof values === 'string') {
      return `${field.label} field: ${values}`;
    }
    for (const value of values) {
      selected.add(field.label === 'day of week' && value === 7 ? 0 : value);
    }
  }
  return [...selected].sort((a, b) => a - b);
}

export function parseCron(expression: string): CronParseResult {
  const parts = expression.trim().split(/\s+/).filter((part) => part !== '');
  if (parts.length !== 5 && parts.length !== 6) {
    return { ok: false, message: `${parts.length} field${parts.length === 1 ? '' : 's'} where cron has 5, or 6 with seconds first` };
  }
  const fields = parts.length === 6 ? [SECONDS_FIELD, ...FIVE_FIELDS] : FIVE_FIELDS;
  const read: number[][] = [];
  for (const [index, field] of fields.entries()) {
    const values = readField(parts[index] ?? '', field);
    if (typeof values === 'string') {
      return { ok: false, message: values };
    }
    read.push(values);
  }
  const offset = parts.length - 5;
  return {
    ok: true,
    schedule: {
      seconds: offset === 1 ? (read[0] ?? []) : [0],
      minutes: read[offset] ?? [],
      hours: read[offset + 1] ?? [],
      daysOfMonth: read[offset + 2] ?? [],
      months: read[offset + 3] ?? [],
      daysOfWeek: read[offset + 4] ?? [],
      // Vixie cron: a field that starts with `*` (including `*/2`) counts as unrestricted.
      dayOfMonthRestricted: !(parts[offset + 2] ?? '*').startsWith('*'),
      dayOfWeekRestricted: !(parts[offset + 4] ?? '*').startsWith('*'),
    },
  };
}
