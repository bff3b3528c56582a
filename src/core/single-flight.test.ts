import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight.js';

describe('SingleFlight', () => {
  it('shares one run among callers that arrive while it runs', async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    const work = async () => ++runs;
    const a = flights.run('k', work);
    const b = flights.run('k', work);
    expect([a.joined, b.joined]).toEqual([false, true]);
    expect(await Promise.all([a.promise, b.promise])).toEqual([1, 1]);
    await new Promise((r) => setImmediate(r));
    expect(flights.size).toBe(0);
  });

  it('keeps the key busy until the held promise settles', async () => {
    const flights = new SingleFlight<string>();
    let release!: () => void;
    const written = new Promise<void>((r) => {
      release = r;
    });
    await flights.run('k', async (hold) => {
      hold(written);
      return 'v';
    }).promise;
    expect(flights.run('k', async () => 'other').joined).toBe(true);
    release();
    await written;
    await new Promise((r) => setImmediate(r));
    expect(flights.size).toBe(0);
  });

  it('releases the key after a failure so the next call runs again', async () => {
    const flights = new SingleFlight<number>();
    await expect(flights.run('k', () => Promise.reject(new Error('x'))).promise).rejects.toThrow(
      'x',
    );
    await new Promise((r) => setImmediate(r));
    expect(flights.run('k', async () => 2).joined).toBe(false);
  });
});
