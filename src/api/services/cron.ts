/**
 * A small check of five-field cron expressions, so a typo is a 400 naming `body.cron` rather than whatever the
 * Temporal server answers. Temporal parses the expression for real; this only refuses what cannot be valid.
 */
const FIELDS = [
  { name: 'minute', min: 0, max: 59, names: [] as string[] },
  { name: 'hour', min: 0, max: 23, names: [] as string[] },
  { name: 'day of month', min: 1, max: 31, names: [] as string[] },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Why the expression is not valid, or null when it is. */
export function cronProblem(expression: string): string | null {
  const expr = expression.trim();
  if (MACROS.has(expr.toLowerCase())) return null;
  const parts = expr.split(/\s+/);
  if (parts.length !== 5) return `must have 5 fields (minute hour day-of-month month day-of-week), not ${parts.length}`;
  for (const [i, part] of parts.entries()) {
    const field = FIELDS[i]!;
    for (const item of part.split(',')) {
      if (!validItem(item.toUpperCase(), field)) return `the ${field.name} field '${part}' is not valid`;
    }
  }
  return null;
}

function validItem(item: string, field: (typeof FIELDS)[number]): boolean {
  const [range, step, extra] = item.split('/');
  if (extra !== undefined || range === undefined || range === '') return false;
  if (step !== undefined && !/^\d+$/.test(step)) return false;
  if (range === '*') return true;
  const bounds = range.split('-');
  if (bounds.length > 2) return false;
  const values = bounds.map((b) => valueOf(b, field));
  if (values.some((v) => v === null)) return false;
  return bounds.length === 1 || values[0]! <= values[1]!;
}

function valueOf(token: string, field: (typeof FIELDS)[number]): number | null {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    return n >= field.min && n <= field.max ? n : null;
  }
  const named = field.names.indexOf(token);
  if (named < 0) return null;
  return field.name === 'month' ? named + 1 : named;
}
