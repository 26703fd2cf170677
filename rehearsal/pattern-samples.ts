/**
 * Strings that a simple regular expression matches, for CHECKs like `code ~ '^[A-Z]{3}-[0-9]{4}$'`:
 * literals, escapes (\d \w \s and escaped characters), classes with ranges, groups, alternation and
 * the quantifiers ? * + {n} {n,m}. Anything else (back-references, lookaround, negated classes):
 * no samples, and the candidates are still judged by PostgreSQL, never by this.
 */
type Node = { kind: 'chars'; set: string } | { kind: 'seq'; items: Node[] } | { kind: 'alt'; branches: Node[] } | { kind: 'repeat'; node: Node; min: number; max: number };

/** Thrown inside the parser for a construct it does not model; caught below, never escapes this file. */
class Unsupported {}

const DIGITS = '0123456789';
const WORD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';

function parse(p: string): Node {
  let i = 0;
  const alt = (): Node => {
    const branches = [seq()];
    while (p[i] === '|') {
      i++;
      branches.push(seq());
    }
    return branches.length === 1 ? branches[0] : { kind: 'alt', branches };
  };
  const escape = (): string => {
    const c = p[i++];
    if (c === undefined || /[1-9bBAZ]/.test(c)) throw new Unsupported();
    if (c === 'd') return DIGITS;
    if (c === 'w') return WORD;
    if (c === 's') return ' ';
    if (/[a-zA-Z]/.test(c)) throw new Unsupported();
    return c;
  };
  const charClass = (): string => {
    if (p[i] === '^') throw new Unsupported();
    let set = '';
    let first = true;
    while (i < p.length && (p[i] !== ']' || first)) {
      first = false;
      let c = p[i++];
      if (c === '[') throw new Unsupported();
      if (c === '\\') c = escape();
      if (p[i] === '-' && p[i + 1] !== undefined && p[i + 1] !== ']' && c.length === 1) {
        const to = p[i + 1];
        i += 2;
        for (let k = c.charCodeAt(0); k <= to.charCodeAt(0); k++) set += String.fromCharCode(k);
      } else set += c;
    }
    if (p[i++] !== ']' || !set) throw new Unsupported();
    return set;
  };
  const atom = (): Node | undefined => {
    const c = p[i];
    if (c === '^' || c === '$') {
      i++;
      return undefined;
    }
    if (c === '(') {
      i++;
      if (p[i] === '?') throw new Unsupported();
      const inner = alt();
      if (p[i++] !== ')') throw new Unsupported();
      return inner;
    }
    if (c === '[') {
      i++;
      return { kind: 'chars', set: charClass() };
    }
    if (c === '\\') {
      i++;
      return { kind: 'chars', set: escape() };
    }
    if (c === '.') {
      i++;
      return { kind: 'chars', set: WORD };
    }
    if ('*+?{'.includes(c)) throw new Unsupported();
    i++;
    return { kind: 'chars', set: c };
  };
  const seq = (): Node => {
    const items: Node[] = [];
    while (i < p.length && p[i] !== '|' && p[i] !== ')') {
      const a = atom();
      if (!a) continue;
      const q = p[i];
      if (q === '?' || q === '*' || q === '+') {
        i++;
        items.push({ kind: 'repeat', node: a, min: q === '+' ? 1 : 0, max: q === '?' ? 1 : 4 });
      } else if (q === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
        if (!m) throw new Unsupported();
        i += m[0].length;
        const min = Number(m[1]);
        items.push({ kind: 'repeat', node: a, min, max: m[2] === undefined ? min : m[3] ? Number(m[3]) : min + 4 });
      } else items.push(a);
    }
    return { kind: 'seq', items };
  };
  const node = alt();
  if (i !== p.length) throw new Unsupported();
  return node;
}

function sample(n: Node, random: () => number): string {
  switch (n.kind) {
    case 'chars':
      return n.set[Math.floor(random() * n.set.length)];
    case 'seq':
      return n.items.map((x) => sample(x, random)).join('');
    case 'alt':
      return sample(n.branches[Math.floor(random() * n.branches.length)], random);
    case 'repeat': {
      const k = n.min + Math.floor(random() * (n.max - n.min + 1));
      return Array.from({ length: k }, () => sample(n.node, random)).join('');
    }
  }
}

/** Up to `count` strings the pattern matches; none when it uses what this does not read. */
export function patternSamples(pattern: string, random: () => number, count = 20): string[] {
  if (!/[\\[\](){}^$*+?|.]/.test(pattern) || pattern.length > 200) return [];
  let tree: Node;
  try {
    tree = parse(pattern);
  } catch {
    return [];
  }
  return [...new Set(Array.from({ length: count }, () => sample(tree, random)))];
}
