/** Polls `read` until it gives a value (a throw counts as not yet), then returns it; fails after `timeoutMs`. */
export async function waitFor<T>(read: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `check` until it is true; fails after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  await waitFor(async () => ((await check()) ? true : undefined), timeoutMs, everyMs);
}
