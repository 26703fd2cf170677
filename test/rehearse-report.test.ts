import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from './cli-run';

const SHOP = path.join(__dirname, 'fixtures', 'shop');
/** Screenshots are kept here for people to look at (git-ignored). */
const OUT = path.join(__dirname, 'out');

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it). Missing is a failure, not a skip. */
function chromium(): string {
  for (const candidate of [process.env.TANDEM_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
    Boolean,
  ) as string[]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('chromium is not installed: apt-get install -y chromium (or set TANDEM_CHROMIUM)');
}

/** Headless Chromium with nothing that reaches out to the network, in a throwaway profile. */
function runChromium(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-chromium-'));
  try {
    const r = spawnSync(
      chromium(),
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { encoding: 'utf8', timeout: 90000, maxBuffer: 64 << 20 },
    );
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

describe('tandem rehearse --report FILE.html, rendered in real headless Chromium', () => {
  let html: string;
  let file: string;

  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    file = path.join(OUT, 'rehearsal-report.html');
    fs.rmSync(file, { force: true });
    const { code, stderr } = await runCli([
      'rehearse',
      path.join(SHOP, 'orders-cents.yaml'),
      '--schema',
      path.join(SHOP, 'schema.sql'),
      '--rows',
      '300',
      '--step-ms',
      '200',
      '--report',
      file,
    ]);
    expect(stderr).toMatch(/report written to /);
    expect(code).toBe(0);
    html = fs.readFileSync(file, 'utf8');
  }, 120000);

  it('is one self-contained file: no scripts, no external resources, a CSP that forbids fetches', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toContain(`content="default-src 'none'`);
    expect(html).toMatch(/@media \(prefers-color-scheme: dark\)/);
  });

  it('renders the stages, the totals and the labelled charts', () => {
    const dom = runChromium(['--dump-dom', `file://${file}`]);
    expect(dom.status).toBe(0);
    const text = dom.stdout;
    expect(text).toMatch(
      /id="verdict">PASSED: zero downtime: 0 failed writes, 0 failed reads, 0 lost or altered writes of \d+ acknowledged/,
    );
    const stages = text.slice(text.indexOf('id="stages"'), text.indexOf('Write latency over time'));
    for (const stage of ['baseline', 'expand', 'backfill', 'dual-write', 'cleanup', 'contract'])
      expect(stages).toContain(`<td>${stage}</td>`);
    const totals = text.slice(text.indexOf('id="totals"'), text.indexOf('id="stages"'));
    expect(totals).toMatch(/<td>acknowledged writes<\/td><td class="num">\d+<\/td>/);
    expect(totals).toMatch(/<td>failed writes<\/td><td class="num">0<\/td>/);
    expect(totals).toMatch(/<td>lost or altered writes<\/td><td class="num">0<\/td>/);
    // Readable without colour: every series and boundary is named in text, and drawn with its own pattern.
    expect(text).toMatch(/<text class="series-label"[^>]*>p50<\/text>/);
    expect(text).toMatch(/<text class="series-label"[^>]*>p99<\/text>/);
    expect(text).toMatch(/<text class="stage-label"[^>]*>dual-write<\/text>/);
    expect(text).toMatch(/<text class="weight-label"[^>]*>v2 50%<\/text>/);
    expect(text).toMatch(/<text class="weight-label"[^>]*>v3 90%<\/text>/);
    expect(text).toContain('backfill done (%)');
    expect(text).toContain('lock_timeout 1000 ms');
    expect(text).toContain('No failures.');
  });

  it('takes a screenshot, light and dark (prefers-color-scheme)', () => {
    const light = path.join(OUT, 'rehearsal-report.png');
    const dark = path.join(OUT, 'rehearsal-report-dark.png');
    for (const [shot, extra] of [
      [light, []],
      [dark, ['--force-dark-mode', '--blink-settings=preferredColorScheme=0']],
    ] as const) {
      fs.rmSync(shot, { force: true });
      const r = runChromium([
        ...extra,
        `--screenshot=${shot}`,
        '--window-size=1000,2400',
        '--hide-scrollbars',
        `file://${file}`,
      ]);
      expect(r.status).toBe(0);
      const png = fs.readFileSync(shot);
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(png.length).toBeGreaterThan(20000);
    }
    expect(fs.readFileSync(light).equals(fs.readFileSync(dark))).toBe(false);
    console.log(`rehearsal report screenshots: ${light} ${dark}`);
  });
});
