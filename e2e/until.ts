/** Poll f (every pollMs) until it returns a value; fail after ms with what was last seen. */
export async function until<T>(what: string, ms: number, f: () => Promise<T | undefined>, pollMs = 250): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
