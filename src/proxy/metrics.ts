/**
 * The proxy's Prometheus metrics, on a registry of its own (two proxies in one process do
 * not share counters). prom-client formats and serves them; it is loaded when a proxy
 * starts listening, so importing the package root does not pay for it.
 *
 * Cost on the request path. Outcome counts are read from the middleware's own counters
 * when scraped. Latencies are recorded in {@link Latency}, a fixed array of bucket counts
 * (one comparison per bucket, no allocation, no label hashing) and turned into
 * prom-client's histogram form only on a scrape: prom-client's own `Histogram.observe`
 * validates and hashes its labels on every call, which cost a cache hit more than the
 * cache lookup itself (bench/README.md, "serve").
 */
import type { Metric, Registry } from 'prom-client';
import type { Cache, HttpCacheStats } from '../index.js';

/** Latency buckets in seconds: a memory hit is well under a millisecond, an origin call up to the timeout. */
const BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

/** One latency series: counts per bucket (the last one is `+Inf`), their sum and count. */
export class Latency {
  readonly #counts = new Float64Array(BUCKETS.length + 1);
  #sum = 0;
  #count = 0;

  /** Records one duration in milliseconds. */
  observe(ms: number): void {
    const seconds = ms / 1000;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    this.#counts[i]!++;
    this.#sum += seconds;
    this.#count++;
  }

  /** The series in Prometheus histogram form: cumulative `_bucket`s, `_sum`, `_count`. */
  values(name: string, labels: Record<string, string>): HistogramValue[] {
    const out: HistogramValue[] = [];
    let cumulative = 0;
    for (let i = 0; i <= BUCKETS.length; i++) {
      cumulative += this.#counts[i]!;
      const le = i < BUCKETS.length ? String(BUCKETS[i]) : '+Inf';
      out.push({ metricName: `${name}_bucket`, labels: { le, ...labels }, value: cumulative });
    }
    out.push({ metricName: `${name}_sum`, labels, value: this.#sum });
    out.push({ metricName: `${name}_count`, labels, value: this.#count });
    return out;
  }
}

interface HistogramValue {
  metricName: string;
  labels: Record<string, string>;
  value: number;
}

/** A histogram prom-client's registry can serve, read from {@link Latency} series when scraped. */
function histogram(
  registry: Registry,
  name: string,
  help: string,
  series: () => Iterable<[Record<string, string>, Latency]>,
): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: HistogramValue[] = [];
      for (const [labels, latency] of series()) values.push(...latency.values(name, labels));
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset() {},
  };
  // The registry asks only for name, help, type and get(): what prom-client's own metrics expose.
  registry.registerMetric(metric as unknown as Metric);
}

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
  /** Upstream waits by status code. */
  readonly #origin = new Map<number, Latency>();
  readonly #total = new Latency();

  /** Requests the proxy answered (admin routes excluded). */
  #requestsSeen = 0;

  /** `stats` is cumulative across reloads (the proxy adds a replaced middleware's counts). */
  constructor(prom: typeof import('prom-client'), stats: () => HttpCacheStats, cache: Cache) {
    const { Counter, Gauge, Registry } = prom;
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
    const origin = this.#origin;
    histogram(
      registry,
      'codeai_cache_origin_duration_seconds',
      'Time from sending a request upstream to its response head (or failure).',
      function* () {
        for (const [status, latency] of origin) yield [{ status: String(status) }, latency];
      },
    );
    const total = this.#total;
    histogram(
      registry,
      'codeai_cache_request_duration_seconds',
      'Time from a request arriving to its response being handed to the connection (a memory hit: answered in the same tick).',
      function* () {
        yield [{}, total];
      },
    );
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
    let latency = this.#origin.get(status);
    if (latency === undefined) {
      latency = new Latency();
      this.#origin.set(status, latency);
    }
    latency.observe(ms);
  }

  /** Records one request's total time. */
  total(ms: number): void {
    this.#total.observe(ms);
  }

  /** The Prometheus text exposition and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
