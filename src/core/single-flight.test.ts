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
    expect(await Promise.all([a.flight.promise, b.flight.promise])).toEqual([1, 1]);
    expect(flights.size).toBe(0);
  });

  it('releases the key after a failure so the next call runs again', async () => {
    const flights = new SingleFlight<number>();
    await expect(
      flights.run('k', () => Promise.reject(new Error('x'))).flight.promise,
    ).rejects.toThrow('x');
    expect(flights.run('k', async () => 2).joined).toBe(false);
  });

  it('a superseded run is not joined again, but still answers its callers', async () => {
    const flights = new SingleFlight<string>();
    let finish!: (v: string) => void;
    const first = flights.run('k', () => new Promise<string>((r) => (finish = r)));
    flights.supersede('k');
    expect(first.flight.superseded).toBe(true);
    const next = flights.run('k', async () => 'new');
    expect(next.joined).toBe(false);
    finish('old');
    expect(await first.flight.promise).toBe('old');
    // The old run settling does not release the new run's key.
    expect(await next.flight.promise).toBe('new');
  });

  it('supersedeWhere picks runs by their tags; clear supersedes every run', () => {
    const flights = new SingleFlight<string>();
    const never = () => new Promise<string>(() => {});
    const a = flights.run('a', never, ['posts']).flight;
    const b = flights.run('b', never, ['users']).flight;
    const c = flights.run('c', never).flight;
    flights.supersedeWhere((f) => f.tags?.includes('posts') === true);
    expect([a.superseded, b.superseded, c.superseded]).toEqual([true, false, false]);
    expect(flights.size).toBe(2);
    flights.clear();
    expect([b.superseded, c.superseded]).toEqual([true, true]);
    expect(flights.size).toBe(0);
  });
});
