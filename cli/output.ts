/**
 * Accessible terminal output: color only on a terminal, never when NO_COLOR is set, and never
 * color alone: every colored status also carries a word and a symbol.
 */
export interface Output {
  readonly color: boolean;
  readonly isTTY: boolean;
  /** A line on stdout. */
  line(text?: string): void;
  /** A line on stderr (diagnostics, progress when stdout is data). */
  info(text: string): void;
  /** A live, overwritten progress line on a terminal; plain lines at most every few seconds otherwise. */
  progress(text: string): void;
  /** End a progress line. */
  endProgress(): void;
  ok(text: string): string;
  fail(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
}

const codes = { green: 32, red: 31, yellow: 33, dim: 2 } as const;

/** Streams whose reader went away: written no more. */
const brokenPipes = new WeakSet<object>();
const watched = new WeakSet<object>();

/**
 * A reader that went away (`tandem status | head -1`) is no failure of the command: stop writing
 * to it, quietly, and let the command end with its own exit code (an EPIPE would otherwise be an
 * unhandled 'error' event: a stack trace).
 */
function quietOnBrokenPipe(stream: NodeJS.WriteStream): void {
  if (watched.has(stream) || typeof stream.on !== 'function') return;
  watched.add(stream);
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    brokenPipes.add(stream);
  });
}

export function createOutput(
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
  env = process.env,
): Output {
  quietOnBrokenPipe(stdout);
  quietOnBrokenPipe(stderr);
  const isTTY = Boolean(stderr.isTTY);
  // no-color.org: NO_COLOR present and not empty disables color, whatever its value.
  const color = Boolean(stdout.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  let progressOpen = false;
  let lastPlain = 0;
  const write = (stream: NodeJS.WriteStream, text: string) => {
    if (!brokenPipes.has(stream)) stream.write(text);
  };
  return {
    color,
    isTTY,
    line: (text = '') => {
      write(stdout, text + '\n');
    },
    info: (text) => {
      if (progressOpen) {
        write(stderr, '\n');
        progressOpen = false;
      }
      write(stderr, text + '\n');
    },
    progress: (text) => {
      if (isTTY) {
        write(stderr, '\r\u001b[2K' + text);
        progressOpen = true;
      } else if (Date.now() - lastPlain >= 5000) {
        lastPlain = Date.now();
        write(stderr, text + '\n');
      }
    },
    endProgress: () => {
      if (progressOpen) write(stderr, '\n');
      progressOpen = false;
    },
    ok: (text) => paint(codes.green, `✔ ${text}`),
    fail: (text) => paint(codes.red, `✘ ${text}`),
    warn: (text) => paint(codes.yellow, `! ${text}`),
    dim: (text) => paint(codes.dim, text),
  };
}
