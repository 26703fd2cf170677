import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// The README was split into docs/ pages: every relative link in README.md and docs/**/*.md must
// reach an existing file, and a `#anchor` a heading of the page it names (GitHub's slugs).
const ROOT = path.join(__dirname, '..');

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(full);
    return entry.name.endsWith('.md') ? [full] : [];
  });
}

/** The text outside fenced code blocks (where a `# line` is no heading). */
function unfenced(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** The text outside fenced code blocks and inline code spans, where a `[x](y)` is a link. */
function prose(text: string): string {
  return unfenced(text).replace(/`[^`\n]*`/g, '');
}

/** Relative link targets: `[text](target)` and `[text]: target`, not URLs or mail addresses. */
function relativeLinks(text: string): string[] {
  const body = prose(text);
  const inline = [...body.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const reference = [...body.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]);
  return [...inline, ...reference].filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
function slug(heading: string): string {
  const text = heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** Every anchor a page offers, numbered the way GitHub numbers repeated headings (`x`, `x-1`). */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const m of unfenced(fs.readFileSync(file, 'utf8')).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Why a link does not resolve, or undefined when it does. */
function brokenReason(from: string, target: string): string | undefined {
  const [rawPath, anchor] = target.split('#', 2);
  const file = rawPath === '' ? from : path.resolve(path.dirname(from), decodeURIComponent(rawPath));
  if (!fs.existsSync(file)) return 'no such file';
  if (anchor === undefined || anchor === '') return undefined;
  if (!file.endsWith('.md')) return undefined;
  return anchors(file).has(decodeURIComponent(anchor).toLowerCase()) ? undefined : `no heading #${anchor}`;
}

const PAGES = [path.join(ROOT, 'README.md'), ...markdownFiles(path.join(ROOT, 'docs'))];

describe('every relative link in README.md and docs/ resolves', () => {
  it.each(PAGES.map((p) => [path.relative(ROOT, p), p]))('%s', (_name, page) => {
    const broken = relativeLinks(fs.readFileSync(page, 'utf8'))
      .map((target) => ({ target, reason: brokenReason(page, target) }))
      .filter((link) => link.reason !== undefined)
      .map((link) => `${link.target}: ${link.reason}`);
    expect(broken).toEqual([]);
  });

  it('README.md links every page under docs/', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const linked = new Set(relativeLinks(readme).map((t) => path.resolve(ROOT, t.split('#')[0])));
    const topLevel = PAGES.filter((p) => path.dirname(p) === path.join(ROOT, 'docs'));
    const unlinked = [...topLevel, path.join(ROOT, 'docs', 'operations', 'README.md')]
      .filter((p) => !linked.has(p))
      .map((p) => path.relative(ROOT, p));
    expect(unlinked).toEqual([]);
  });

  // rename_table is refused at parse: it has no spec to show.
  it('every operation page shows an example, the spec file it links, verbatim', () => {
    const dir = path.join(ROOT, 'docs', 'operations');
    const stale = fs
      .readdirSync(dir)
      .filter((name) => name !== 'README.md')
      .flatMap((name) => {
        const text = fs.readFileSync(path.join(dir, name), 'utf8');
        const example = /\]\((\.\.\/\.\.\/migrations\/[^)]+\.yaml)\):\n\n```yaml\n([\s\S]*?)```/.exec(text);
        if (!example) return name === 'rename_table.md' ? [] : [`${name}: no example`];
        const spec = fs.readFileSync(path.resolve(dir, example[1]), 'utf8');
        return spec.includes(example[2]) ? [] : [`${name}: differs from ${example[1]}`];
      });
    expect(stale).toEqual([]);
  });

  it('the slug rule finds headings as GitHub names them', () => {
    const page = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'docs-links-')), 'page.md');
    fs.writeFileSync(page, '# A `code` heading\n\n```sh\n# not a heading\n```\n\n## Twice\n\n## Twice\n');
    expect([...anchors(page)]).toEqual(['a-code-heading', 'twice', 'twice-1']);
    fs.rmSync(path.dirname(page), { recursive: true });
    expect(slug('The main job: `tandem rehearse`')).toBe('the-main-job-tandem-rehearse');
    expect(slug('Many migrations, one stack')).toBe('many-migrations-one-stack');
  });
});
