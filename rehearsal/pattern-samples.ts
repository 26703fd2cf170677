/**
 * Strings that a simple regular expression matches, for CHECKs like `code ~ '^[A-Z]{3}-[0-9]{4}$'`:
 * literals, escapes (\d \w \s and escaped characters), classes with ranges, groups, alternation and
 * the quantifiers ? * + {n} {n,m}. Anything else (back-references, lookaround, negated classes):
 * no samples, and the candidates are still judged by PostgreSQL, never by this.
 */
type Node =
  | { kind: 'chars'; set: string }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; branches: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number };

/** Thrown inside the parser for a construct it does not model; caught below, never escapes this file. */
class Unsupported {}

const DIGITS = '0123456789';
const WORD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';

function parse(p: string): Node {
  return new PatternParser(p).parse();
}

/** A recursive-descent reader of the pattern, `i` the position it has read to. */
class PatternParser {
  private i = 0;

  constructor(private readonly p: string) {}

  parse(): Node {
    const node = this.alt();
    if (this.i !== this.p.length) throw new Unsupported();
    return node;
  }

  private alt(): Node {
    const branches = [this.seq()];
    while (this.p[this.i] === '|') {
      this.i++;
      branches.push(this.seq());
    }
    return branches.length === 1 ? branches[0] : { kind: 'alt', branches };
  }

  private seq(): Node {
    const items: Node[] = [];
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') {
      const a = this.atom();
      if (a) items.push(this.quantified(a));
    }
    return { kind: 'seq', items };
  }

  /** The atom with the quantifier that follows it, if any. */
  private quantified(a: Node): Node {
    const { p } = this;
    const q = p[this.i];
    if (q === '?' || q === '*' || q === '+') {
      this.i++;
      return { kind: 'repeat', node: a, min: q === '+' ? 1 : 0, max: q === '?' ? 1 : 4 };
    }
    if (q !== '{') return a;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(this.i));
    if (!m) throw new Unsupported();
    this.i += m[0].length;
    const min = Number(m[1]);
    return { kind: 'repeat', node: a, min, max: m[2] === undefined ? min : m[3] ? Number(m[3]) : min + 4 };
  }

  private atom(): Node | undefined {
    const c = this.p[this.i];
    if (c === '^' || c === '$') {
      this.i++;
      return undefined;
    }
    if (c === '(') {
      this.i++;
      if (this.p[this.i] === '?') throw new Unsupported();
      const inner = this.alt();
      if (this.p[this.i++] !== ')') throw new Unsupported();
      return inner;
    }
    if (c === '[') {
      this.i++;
      return { kind: 'chars', set: this.charClass() };
    }
    if (c === '\\') {
      this.i++;
      return { kind: 'chars', set: this.escape() };
    }
    if (c === '.') {
      this.i++;
      return { kind: 'chars', set: WORD };
    }
    if ('*+?{'.includes(c)) throw new Unsupported();
    this.i++;
    return { kind: 'chars', set: c };
  }

  private escape(): string {
    const c = this.p[this.i++];
    if (c === undefined || /[1-9bBAZ]/.test(c)) throw new Unsupported();
    if (c === 'd') return DIGITS;
    if (c === 'w') return WORD;
    if (c === 's') return ' ';
    if (/[a-zA-Z]/.test(c)) throw new Unsupported();
    return c;
  }

  private charClass(): string {
    const { p } = this;
    if (p[this.i] === '^') throw new Unsupported();
    let set = '';
    let first = true;
    while (this.i < p.length && (p[this.i] !== ']' || first)) {
      first = false;
      let c = p[this.i++];
      if (c === '[') throw new Unsupported();
      if (c === '\\') c = this.escape();
      if (p[this.i] === '-' && p[this.i + 1] !== undefined && p[this.i + 1] !== ']' && c.length === 1) {
        const to = p[this.i + 1];
        this.i += 2;
        for (let k = c.charCodeAt(0); k <= to.charCodeAt(0); k++) set += String.fromCharCode(k);
      } else set += c;
    }
    if (p[this.i++] !== ']' || !set) throw new Unsupported();
    return set;
  }
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
