/**
 * The soak, short (`npm run soak` is the long one; soak/soak.ts says what it does): two
 * `codeai-cache serve` processes on one private redis-server, a real origin, ~18 s of load
 * with six users' credentials and writes through both, Redis killed and restarted once.
 * Every answer is checked against the origin's versions; the bars are the long soak's.
 *
 * Why the bounds are safe on a loaded machine: the only time bound is "no request over 5 s",
 * and every Redis wait is bounded by the command timeout (1 s) and the breaker; the staleness
 * bound (1 s after an acknowledged write) holds because a write answers only after its
 * invalidation landed or was queued, and reads of a queued tag bypass the entry.
 */
import { describe, expect, it } from 'vitest';
import { formatReport } from '../../soak/report.js';
import { runSoak } from '../../soak/soak.js';

describe('soak (short)', () => {
  it('two serve instances on one Redis, killed and restarted under load: no wrong-user, 5xx, stale or slow answer, and caching resumes', async () => {
    const report = await runSoak({ durationMs: 18_000, rate: 120 });
    const table = formatReport(report);
    const bars = Object.fromEntries(report.bars.map((b) => [b.name, b.value]));
    expect(bars, table).toEqual({
      'wrong-user responses': 0,
      'wrong resource / variant / unreadable responses': 0,
      '5xx while the origin is healthy': 0,
      'errors served (no answer, 5xx, unexpected status)': 0,
      'reads older than a write acknowledged > 1 s before': 0,
      'requests over 5 s': 0,
      'cache hits on both instances after the last Redis recovery': expect.any(Number),
    });
    expect(report.passed, table).toBe(true);
    // The soak exercised what it claims: both instances answered, writes went through,
    // and Redis went down and came back.
    expect(report.totals.writes, table).toBeGreaterThan(50);
    expect(report.totals.hits[0] + report.totals.hits[1], table).toBeGreaterThan(100);
    expect(report.faults.map((f) => f.what)).toEqual(['redis SIGKILL', 'redis restarted']);
  }, 90_000);
});
