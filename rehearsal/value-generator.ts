import { FIRST_NAMES, LAST_NAMES } from './british-names';
import { ModelColumn } from './table-model';

/**
 * Values for a column, as the text PostgreSQL reads: mostly realistic, and a steady share of the
 * awkward ones a migration must carry unaltered: NULL (where allowed), empty strings, double and
 * trailing spaces, unicode, and the extremes of each type.
 */
export type ValueSource = () => string | null;

const AWKWARD_TEXT = [
  '',
  ' ',
  'a  b',
  'Ada  Lovelace',
  'Twiggy ',
  ' Cher',
  'Zoë Brontë',
  'Ñandú Ğüneş',
  '日本 語',
  '😀 emoji',
  "O'Connor",
  'back\\slash',
  'tab\there',
  'line\nbreak',
  '%_like%',
  'NULL',
  'x'.repeat(2000),
];
const TIMESTAMPS = [
  '2000-02-29 12:34:56.789012',
  '1970-01-01 00:00:00',
  '0001-01-01 00:00:00',
  '9999-12-31 23:59:59.999999',
  'infinity',
  '-infinity',
  '2024-03-31 01:30:00',
];
const DATES = ['2000-02-29', '1970-01-01', '0001-01-01', '9999-12-31', 'infinity', '-infinity'];

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)];
}

function intRange(base: string): [bigint, bigint] {
  if (base === 'int2') return [-32768n, 32767n];
  if (base === 'int4') return [-2147483648n, 2147483647n];
  return [-9223372036854775808n, 9223372036854775807n];
}

function numericValue(col: ModelColumn, random: () => number, awkward: boolean): string {
  const p = col.precision;
  const s = col.scale ?? 0;
  if (p !== undefined) {
    const intDigits = p - s;
    const max = intDigits > 0 ? '9'.repeat(intDigits) + (s ? '.' + '9'.repeat(s) : '') : '0.' + '9'.repeat(s);
    const smallest = s ? '0.' + '0'.repeat(s - 1) + '1' : '1';
    if (awkward) return pick(random, [max, '-' + max, '0', smallest, '-' + smallest]);
    const whole = Math.floor(random() * Math.min(10 ** Math.min(intDigits, 6), 1e6));
    const frac = s ? '.' + String(Math.floor(random() * 10 ** Math.min(s, 6))).padStart(Math.min(s, 6), '0') : '';
    return `${whole}${frac}`;
  }
  if (awkward)
    return pick(random, ['0', '-0.000001', '123456789012345678901234567890.123456789', '1e-20', '-1', '0.1']);
  return (random() * 10000).toFixed(2);
}

function textValue(col: ModelColumn, random: () => number, awkward: boolean): string {
  let v: string;
  if (awkward) v = pick(random, AWKWARD_TEXT);
  else {
    const r = random();
    const first = pick(random, FIRST_NAMES);
    if (r < 0.1) v = first;
    else if (r < 0.25) v = `${first} ${pick(random, FIRST_NAMES)} ${pick(random, LAST_NAMES)}`;
    else if (r < 0.35) v = `${first.toLowerCase()}.${Math.floor(random() * 1e6)}@example.co.uk`;
    else v = `${first} ${pick(random, LAST_NAMES)}`;
  }
  if (col.maxLength !== undefined) v = [...v].slice(0, col.maxLength).join('');
  return v;
}

function uuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

/** One value of the column's base type; `awkward` asks for an edge case. Undefined: no generator for the type. */
export function valueOf(col: ModelColumn, random: () => number, awkward: boolean): string | undefined {
  if (col.labels && col.labels.length) return pick(random, col.labels);
  switch (col.base) {
    case 'int2':
    case 'int4':
    case 'int8': {
      const [min, max] = intRange(col.base);
      if (awkward) return String(pick(random, [min, max, 0n, -1n, 1n]));
      return String(Math.floor(random() * 100000));
    }
    case 'numeric':
      return numericValue(col, random, awkward);
    case 'float4':
    case 'float8':
      if (awkward) return pick(random, ['0', '-1.5', '1e300', '-1e-300', 'Infinity', '-Infinity', '3.4e38']);
      return (random() * 1000).toFixed(3);
    case 'bool':
      return random() < 0.5 ? 'true' : 'false';
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'citext':
    case 'name':
      return textValue(col, random, awkward);
    case 'date':
      if (awkward) return pick(random, DATES);
      return new Date(
        Date.UTC(1990 + Math.floor(random() * 40), Math.floor(random() * 12), 1 + Math.floor(random() * 28)),
      )
        .toISOString()
        .slice(0, 10);
    case 'timestamp':
    case 'timestamptz': {
      if (awkward) {
        const t = pick(random, TIMESTAMPS);
        return col.base === 'timestamptz' && !t.includes('infinity') ? `${t}+00` : t;
      }
      const ms = Date.UTC(2015, 0, 1) + Math.floor(random() * 10 * 365 * 86400000);
      return new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace('Z', col.base === 'timestamptz' ? '+00' : '');
    }
    case 'time':
      return awkward
        ? pick(random, ['00:00:00', '23:59:59.999999', '24:00:00'])
        : `${String(Math.floor(random() * 24)).padStart(2, '0')}:${String(Math.floor(random() * 60)).padStart(2, '0')}:00`;
    case 'interval':
      return awkward
        ? pick(random, ['0', '-1 day', '178000000 years', '1 mon -1 day'])
        : `${Math.floor(random() * 100)} days`;
    case 'uuid':
      return awkward
        ? pick(random, ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'])
        : uuid(random);
    case 'json':
    case 'jsonb':
      return awkward
        ? pick(random, ['{}', '[]', 'null', '"Zoë"', '{"a": {"b": [1, 2.50, null]}}', '{"": ""}'])
        : JSON.stringify({ n: Math.floor(random() * 1000), s: pick(random, FIRST_NAMES) });
    case 'bytea':
      return awkward
        ? pick(random, ['\\x', '\\x00', '\\xffff'])
        : '\\x' +
            Array.from({ length: 8 }, () =>
              Math.floor(random() * 256)
                .toString(16)
                .padStart(2, '0'),
            ).join('');
    case 'inet':
    case 'cidr':
      return awkward
        ? pick(random, ['0.0.0.0', '::1', '255.255.255.255'])
        : `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
    default:
      if (col.category === 'A') return awkward ? '{}' : undefined;
      return undefined;
  }
}

/** A source of values for one column: about 1 in 6 awkward, 1 in 12 NULL where the column allows it. */
export function columnValues(col: ModelColumn, random: () => number): ValueSource {
  return () => {
    const r = random();
    if (!col.notNull && r < 0.08) return null;
    const v = valueOf(col, random, r < 0.24);
    return v === undefined ? null : v;
  };
}
