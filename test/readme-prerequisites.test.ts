import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/** The Debian packages an `apt-get install` line names. */
function packages(text: string): string[] {
  return [...text.matchAll(/apt-get install -y(?: -qq)? ([a-z0-9.\- ]+?)(?:\s*>|\s*$|`)/gm)]
    .flatMap((m) => m[1].trim().split(/\s+/))
    .filter((p) => !p.startsWith('-'));
}

describe('the README lists every prerequisite of its two commands, and .ci/run installs exactly those', () => {
  it("the packages named under the README's two commands are the ones .ci/run installs", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const intro = readme.slice(0, readme.indexOf('## The main job'));
    const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
    const listed = [...new Set(packages(intro))].sort();
    expect(listed).toEqual(['chromium', 'postgresql-15']);
    expect([...new Set(packages(ci))].sort()).toEqual(listed);
  });

  it('the report test looks for the chromium the README names', () => {
    expect(fs.readFileSync(path.join(ROOT, 'test', 'rehearse-report.test.ts'), 'utf8')).toContain(
      "'/usr/bin/chromium'",
    );
  });
});
