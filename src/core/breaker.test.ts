import { describe, expect, it } from 'vitest';
import { ManualTimers, settle } from '../../test/harness/manual-timers.js';
import {
  type BreakerState,
  CircuitBreaker,
  resolveBreakerOptions,
  URGENT_PROBE_MS,
} from './breaker.js';
import { CacheError } from './errors.js';

const timeout = () => new CacheError('TIMEOUT', 'timed out');

function breaker(probe: () => Promise<void> = async () => {}) {
  const timers = new ManualTimers();
  const states: BreakerState[] = [];
  const b = new CircuitBreaker(
    { threshold: 3, cooldownMs: 1_000 },
    { probe, onChange: (s) => states.push(s) },
    timers,
  );
  return { b, timers, states };
}

describe('CircuitBreaker', () => {
  it('opens after `threshold` consecutive timeouts or connection errors', () => {
    const { b, states } = breaker();
    b.failed(timeout());
    b.failed(new CacheError('CONNECTION', 'refused'));
    expect(b.closed).toBe(true);
    b.failed(timeout());
    expect(b.closed).toBe(false);
    expect(states).toEqual(['open']);
    expect(b.refusal('redis get')).toMatchObject({ code: 'CONNECTION' });
  });

  it('counts only consecutive failures: an answer, or an error the backend answered with, resets', () => {
    const { b } = breaker();
    b.failed(timeout());
    b.failed(timeout());
    b.succeeded();
    b.failed(timeout());
    b.failed(timeout());
    b.failed(new CacheError('BACKEND', 'WRONGTYPE'));
    b.failed(timeout());
    expect(b.closed).toBe(true);
  });

  it('probes once after the cool-down, and closes when the probe succeeds', async () => {
    let probes = 0;
    const { b, timers, states } = breaker(async () => {
      probes++;
    });
    for (let i = 0; i < 3; i++) b.failed(timeout());
    await timers.advance(999);
    expect(probes).toBe(0);
    expect(b.state).toBe('open');
    await timers.advance(1);
    expect(probes).toBe(1);
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('hurry: probes every URGENT_PROBE_MS while work waits, then back to the cool-down once closed', async () => {
    let probes = 0;
    let answering = false;
    const { b, timers } = breaker(async () => {
      probes++;
      if (!answering) throw timeout();
    });
    for (let i = 0; i < 3; i++) b.failed(timeout());
    await timers.advance(100);
    b.hurry(); // an invalidation was queued: the 2nd half of the cool-down is not waited
    await timers.advance(URGENT_PROBE_MS - 1);
    expect(probes).toBe(0);
    await timers.advance(1);
    expect(probes).toBe(1);
    expect(b.state).toBe('open');
    await timers.advance(URGENT_PROBE_MS); // still down: probed again soon, not after 1 s
    expect(probes).toBe(2);
    answering = true;
    await timers.advance(URGENT_PROBE_MS);
    expect(probes).toBe(3);
    expect(b.state).toBe('closed');
    // The work has landed: the next outage waits the whole cool-down again.
    answering = false;
    for (let i = 0; i < 3; i++) b.failed(timeout());
    await timers.advance(999);
    expect(probes).toBe(3);
    await timers.advance(1);
    expect(probes).toBe(4);
  });

  it('refuses calls while the probe runs, and opens again for a cool-down when it fails', async () => {
    let release: (err?: unknown) => void = () => {};
    const { b, timers, states } = breaker(
      () =>
        new Promise<void>((resolve, reject) => {
          release = (err) => (err === undefined ? resolve() : reject(err));
        }),
    );
    for (let i = 0; i < 3; i++) b.failed(timeout());
    await timers.advance(1_000);
    expect(b.state).toBe('half-open');
    expect(b.closed).toBe(false);
    release(timeout());
    await settle();
    expect(b.state).toBe('open');
    expect(timers.nextDelay).toBe(1_000);
    await timers.advance(1_000);
    release();
    await settle();
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('stop() cancels the pending probe', async () => {
    let probes = 0;
    const { b, timers } = breaker(async () => {
      probes++;
    });
    for (let i = 0; i < 3; i++) b.failed(timeout());
    b.stop();
    expect(timers.pending).toBe(0);
    await timers.advance(5_000);
    expect(probes).toBe(0);
  });
});

describe('resolveBreakerOptions', () => {
  it('applies the defaults, accepts false, and names the option in errors', () => {
    expect(resolveBreakerOptions(undefined)).toEqual({ threshold: 5, cooldownMs: 2_000 });
    expect(resolveBreakerOptions({ threshold: 3, cooldown: '500ms' })).toEqual({
      threshold: 3,
      cooldownMs: 500,
    });
    expect(resolveBreakerOptions(false)).toBeUndefined();
    expect(() => resolveBreakerOptions({ threshold: 0 })).toThrow(/breaker\.threshold/);
    expect(() => resolveBreakerOptions({ cooldown: 0 })).toThrow(/breaker\.cooldown/);
    // @ts-expect-error: not a duration, rejected at run time too
    expect(() => resolveBreakerOptions({ cooldown: 'soon' })).toThrow(/breaker\.cooldown/);
    expect(() =>
      resolveBreakerOptions({ treshold: 3 } as unknown as Parameters<
        typeof resolveBreakerOptions
      >[0]),
    ).toThrow(/unknown breaker option "treshold"/);
  });
});
