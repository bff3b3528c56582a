/**
 * The proxy's Prometheus metrics, on a registry of its own (two proxies in one process do
 * not share counters). Outcome counts are read from the middleware's own counters when
 * scraped, so the request path pays nothing for them; latencies are observed per request.
 * prom-client is loaded when a proxy starts listening, so importing the package root does
 * not pay for it.
 */
import type { Histogram, Registry } from 'prom-client';
import type { Cache, HttpCacheStats } from '../index.js';

/** Latency buckets in seconds: a memory hit is well under a millisecond, an origin call up to the timeout. */
const BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Loads prom-client and builds the proxy's metrics. */
export async function createMetrics(
  stats: () => HttpCacheStats,
  cache: Cache,
): Promise<ProxyMetrics> {
  return new ProxyMetrics(await import('prom-client'), stats, cache);
}

/** What the proxy counts. */
export class ProxyMetrics {
  readonly registry: Registry;
  readonly #origin: Histogram;
  readonly #total: Histogram;

  /** Requests the proxy answered (admin routes excluded). */
  #requestsSeen = 0;

  /** `stats` is cumulative across reloads (the proxy adds a replaced middleware's counts). */
  constructor(prom: typeof import('prom-client'), stats: () => HttpCacheStats, cache: Cache) {
    const { Counter, Gauge, Histogram, Registry } = prom;
    const registry = new Registry();
    this.registry = registry;
    const seen = () => this.#requestsSeen;
    new Counter({
      name: 'codeai_cache_requests_total',
      help: 'Requests by cache outcome: HIT, MISS, STALE, BYPASS, and PASS for paths the cache does not cover.',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        const s = stats();
        this.reset();
        this.inc({ outcome: 'HIT' }, s.hits);
        this.inc({ outcome: 'MISS' }, s.misses);
        this.inc({ outcome: 'STALE' }, s.stale);
        this.inc({ outcome: 'BYPASS' }, s.bypass);
        // Requests outside a spec's cached endpoints never reach the middleware's counters.
        this.inc({ outcome: 'PASS' }, Math.max(0, seen() - s.hits - s.misses - s.stale - s.bypass));
      },
    });
    this.#origin = new Histogram({
      name: 'codeai_cache_origin_duration_seconds',
      help: 'Time from sending a request upstream to its response head (or failure).',
      labelNames: ['status'],
      buckets: BUCKETS,
      registers: [registry],
    });
    this.#total = new Histogram({
      name: 'codeai_cache_request_duration_seconds',
      help: 'Time from a request arriving to its response finishing.',
      buckets: BUCKETS,
      registers: [registry],
    });
    new Gauge({
      name: 'codeai_cache_invalidations',
      help: 'Tag invalidations issued (after writes and through /__cache/invalidate) since the last reload.',
      registers: [registry],
      collect() {
        this.set(stats().invalidations);
      },
    });
    new Gauge({
      name: 'codeai_cache_errors',
      help: 'Cache operations that failed (each request was answered by the origin).',
      registers: [registry],
      collect() {
        this.set(stats().errors + cache.stats().errors);
      },
    });
    new Gauge({
      name: 'codeai_cache_stored_entries',
      help: 'Entries held, where the backend reports it (memory).',
      registers: [registry],
      collect() {
        const n = cache.stats().entries;
        if (n !== undefined) this.set(n);
      },
    });
    new Gauge({
      name: 'codeai_cache_stored_bytes',
      help: 'Bytes held, where the backend reports it (memory).',
      registers: [registry],
      collect() {
        const n = cache.stats().bytes;
        if (n !== undefined) this.set(n);
      },
    });
  }

  /** Counts one request the proxy handles (cached or forwarded). */
  request(): void {
    this.#requestsSeen++;
  }

  /** Records one upstream wait. */
  origin(ms: number, status: number): void {
    this.#origin.observe({ status: String(status) }, ms / 1000);
  }

  /** Records one request's total time. */
  total(ms: number): void {
    this.#total.observe(ms / 1000);
  }

  /** The Prometheus text exposition and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
