/**
 * Generated British-ish names for rehearsal and benchmark rows: deterministic for a seed, mostly
 * "First Last", some with a middle name or a double-barrelled surname, and a few awkward ones
 * (one word, two spaces, a trailing space) that the migration must carry without altering.
 */

export const FIRST_NAMES: readonly string[] = [
  'Oliver',
  'George',
  'Harry',
  'Jack',
  'Jacob',
  'Noah',
  'Charlie',
  'Thomas',
  'Oscar',
  'William',
  'James',
  'Henry',
  'Alfie',
  'Arthur',
  'Freddie',
  'Archie',
  'Edward',
  'Samuel',
  'Joseph',
  'Rhys',
  'Olivia',
  'Amelia',
  'Isla',
  'Ava',
  'Emily',
  'Sophie',
  'Grace',
  'Lily',
  'Ella',
  'Poppy',
  'Evie',
  'Isabella',
  'Charlotte',
  'Jessica',
  'Freya',
  'Alice',
  'Siobhan',
  'Niamh',
  'Eilidh',
  'Cerys',
  'Priya',
  'Aaliyah',
  'Mohammed',
  'Yusuf',
  'Kwame',
  'Chidi',
  'Anjali',
  'Zara',
  'Mei',
  'Ffion',
];

export const LAST_NAMES: readonly string[] = [
  'Smith',
  'Jones',
  'Williams',
  'Taylor',
  'Brown',
  'Davies',
  'Evans',
  'Wilson',
  'Thomas',
  'Johnson',
  'Roberts',
  'Robinson',
  'Thompson',
  'Wright',
  'Walker',
  'White',
  'Edwards',
  'Hughes',
  'Green',
  'Hall',
  'Lewis',
  'Harris',
  'Clarke',
  'Patel',
  'Jackson',
  'Wood',
  'Turner',
  'Martin',
  'Cooper',
  'Hill',
  'Ward',
  'Morris',
  'Moore',
  'Clark',
  'Lee',
  'King',
  'Baker',
  'Harrison',
  'Morgan',
  'Allen',
  'MacDonald',
  "O'Connor",
  'Fitzgerald',
  'Campbell',
  'Stewart',
  'Llewellyn',
  'Khan',
  'Okafor',
  'Nowak',
  'Brontë',
];

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same names. */
export function randomSource(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type NameSource = () => string;

export function britishNames(seed = 1): NameSource {
  const random = randomSource(seed);
  const pick = (list: readonly string[]) => list[Math.floor(random() * list.length)];
  return () => {
    const r = random();
    const first = pick(FIRST_NAMES);
    if (r < 0.01) return first; // one word
    if (r < 0.02) return `${first}  ${pick(LAST_NAMES)}`; // two spaces
    if (r < 0.03) return `${first} `; // trailing space: does not round-trip through the split
    if (r < 0.13) return `${first} ${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`; // a middle name
    if (r < 0.18) return `${first} ${pick(LAST_NAMES)}-${pick(LAST_NAMES)}`; // double-barrelled
    return `${first} ${pick(LAST_NAMES)}`;
  };
}
