import { describe, expect, it } from 'vitest';

import { coalesce } from './coalesce';

/** A load whose answers the test gives, one at a time. */
function controlled() {
  const pending: ((value: number) => void)[] = [];
  let started = 0;
  const load = () =>
    new Promise<number>((resolve) => {
      started += 1;
      pending.push(resolve);
    });
  return { load, started: () => started, answer: (value: number) => pending.shift()!(value) };
}

describe('coalesce', () => {
  it('runs one load at a time: calls meanwhile share one more, started when it ends', async () => {
    const server = controlled();
    const reload = coalesce(server.load);
    const first = reload();
    const second = reload();
    const third = reload();
    expect(server.started()).toBe(1);
    expect(second).toBe(third);
    server.answer(1);
    expect(await first).toBe(1);
    await Promise.resolve();
    expect(server.started()).toBe(2); // the one more, for the changes the first may have missed
    server.answer(2);
    expect(await second).toBe(2);
    expect(await third).toBe(2);
    // Idle again: the next call loads at once.
    const fourth = reload();
    expect(server.started()).toBe(3);
    server.answer(3);
    expect(await fourth).toBe(3);
  });

  it('loads again after a failed load', async () => {
    let calls = 0;
    const reload = coalesce(async () => {
      calls += 1;
      if (calls === 1) throw new Error('down');
      return calls;
    });
    const first = reload();
    const second = reload();
    await expect(first).rejects.toThrow('down');
    expect(await second).toBe(2);
  });
});
