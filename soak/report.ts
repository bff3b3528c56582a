/**
 * What the soak measured, per 10-second window and in total, the bars it is held to, and
 * the summary table it prints.
 */
import type { Verdict } from './oracle.js';

/** One finished request. */
export interface Outcome {
  /** ms since the soak started, when the request was sent. */
  at: number;
  latencyMs: number;
  /** 0 or 1: which serve instance. */
  instance: number;
  kind: 'read' | 'write';
  method: string;
  path: string;
  user: string;
  /** 0 when no response arrived (reset, refused, timed out). */
  status: number;
  xCache: string | undefined;
  error?: string;
  verdict?: Verdict;
}

/** Counters of one window or of the whole run. */
export interface Counts {
  requests: number;
  reads: number;
  writes: number;
  /** Answers a client should never get here: no response, a 5xx, a status the origin never sends. */
  errorsServed: number;
  /** 5xx answers (the origin stays healthy for the whole soak, so every one counts). */
  serverErrors: number;
  /** Answers for another user (or, on public routes, a user's private answer). */
  wrongUser: number;
  /** Answers for another resource, another `Accept-Language` variant, or unreadable. */
  wrongOther: number;
  /** Reads older than a write acknowledged more than 1 s before they started. */
  staleReads: number;
  over5s: number;
  /** X-Cache outcomes of reads, per instance. */
  hits: [number, number];
  misses: number;
  staleServed: number;
  bypass: number;
}

/** Memory of one serve instance at one moment. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
}

export interface WindowReport extends Counts {
  /** Seconds since the start of the soak. */
  from: number;
  to: number;
  p50: number;
  p99: number;
  /** What was done to Redis in this window. */
  faults: string[];
  /** Per instance: the highest RSS and the last heap seen in the window. */
  memory: (MemorySample | undefined)[];
}

/** One bar and whether it was met. */
export interface Bar {
  name: string;
  value: number;
  limit: string;
  met: boolean;
}

export interface SoakReport {
  startedAt: string;
  durationS: number;
  config: Record<string, unknown>;
  totals: Counts & { p50: number; p99: number; max: number; ratePerS: number; shed: number };
  windows: WindowReport[];
  faults: { atS: number; what: string }[];
  memory: { instance: number; atS: number; rss: number; heapUsed: number }[];
  /** The first problems seen, to start an investigation from. */
  examples: Outcome[];
  bars: Bar[];
  passed: boolean;
  /** `loadavg` at the start and at the end: how busy the machine was. */
  load: { start: number[]; end: number[] };
  /** Requests the origin answered: what the caches kept off it. */
  origin: { reads: number; writes: number };
  /** Per instance: RSS in the first and last window, and the highest seen, in bytes. */
  memorySummary: {
    instance: number;
    firstRss: number;
    lastRss: number;
    peakRss: number;
    peakHeapUsed: number;
  }[];
}

const zero = (): Counts => ({
  requests: 0,
  reads: 0,
  writes: 0,
  errorsServed: 0,
  serverErrors: 0,
  wrongUser: 0,
  wrongOther: 0,
  staleReads: 0,
  over5s: 0,
  hits: [0, 0],
  misses: 0,
  staleServed: 0,
  bypass: 0,
});

/** Statuses the origin answers with (and a cache may replay) for the soak's requests. */
const EXPECTED = new Set([200, 201, 304, 404]);

interface Open {
  counts: Counts;
  latencies: number[];
  faults: string[];
  memory: (MemorySample | undefined)[];
}

/** Collects outcomes into windows and totals. */
export class Recorder {
  readonly #windowMs: number;
  readonly #windows: Open[] = [];
  readonly #total = zero();
  readonly #latencies: number[] = [];
  readonly #examples: Outcome[] = [];
  readonly #faults: { atS: number; what: string }[] = [];
  readonly #memory: SoakReport['memory'] = [];
  /** Hits per instance seen after the last fault was over. */
  readonly hitsAfterRecovery: [number, number] = [0, 0];
  #recoveredAt = 0;
  shed = 0;

  constructor(windowMs = 10_000) {
    this.#windowMs = windowMs;
  }

  #window(at: number): Open {
    const i = Math.max(0, Math.floor(at / this.#windowMs));
    while (this.#windows.length <= i) {
      this.#windows.push({ counts: zero(), latencies: [], faults: [], memory: [] });
    }
    return this.#windows[i]!;
  }

  /** Records one finished request. */
  add(o: Outcome): void {
    const w = this.#window(o.at);
    count(w.counts, o);
    const problem = count(this.#total, o);
    w.latencies.push(o.latencyMs);
    this.#latencies.push(o.latencyMs);
    if (o.xCache === 'HIT' && o.at >= this.#recoveredAt) this.hitsAfterRecovery[o.instance]!++;
    if (problem && this.#examples.length < 25) this.#examples.push(o);
  }

  /** Records a fault at `at` ms; `recovered` marks the end of one (hits are counted again from there). */
  fault(at: number, what: string, recovered = false): void {
    this.#window(at).faults.push(what);
    this.#faults.push({ atS: round(at / 1000, 1), what });
    if (recovered) {
      this.#recoveredAt = at;
      this.hitsAfterRecovery[0] = 0;
      this.hitsAfterRecovery[1] = 0;
    }
  }

  /** Records a memory sample of `instance`. */
  memorySample(at: number, instance: number, m: MemorySample): void {
    const w = this.#window(at);
    const prev = w.memory[instance];
    w.memory[instance] = { rss: Math.max(prev?.rss ?? 0, m.rss), heapUsed: m.heapUsed };
    this.#memory.push({ instance, atS: round(at / 1000, 1), ...m });
  }

  /** The report of everything recorded, with its bars. */
  report(meta: {
    startedAt: string;
    durationMs: number;
    config: Record<string, unknown>;
    load: SoakReport['load'];
    origin: SoakReport['origin'];
  }): SoakReport {
    const windows = this.#windows.map((w, i) => ({
      from: (i * this.#windowMs) / 1000,
      to: ((i + 1) * this.#windowMs) / 1000,
      ...w.counts,
      p50: percentile(w.latencies, 0.5),
      p99: percentile(w.latencies, 0.99),
      faults: w.faults,
      memory: w.memory,
    }));
    const t = this.#total;
    const totals = {
      ...t,
      p50: percentile(this.#latencies, 0.5),
      p99: percentile(this.#latencies, 0.99),
      max: round(Math.max(0, ...this.#latencies), 1),
      ratePerS: round(t.requests / (meta.durationMs / 1000), 1),
      shed: this.shed,
    };
    const bars: Bar[] = [
      bar('wrong-user responses', t.wrongUser, 0),
      bar('wrong resource / variant / unreadable responses', t.wrongOther, 0),
      bar('5xx while the origin is healthy', t.serverErrors, 0),
      bar('errors served (no answer, 5xx, unexpected status)', t.errorsServed, 0),
      bar('reads older than a write acknowledged > 1 s before', t.staleReads, 0),
      bar('requests over 5 s', t.over5s, 0),
      {
        name: 'cache hits on both instances after the last Redis recovery',
        value: Math.min(...this.hitsAfterRecovery),
        limit: '> 0',
        met: Math.min(...this.hitsAfterRecovery) > 0,
      },
    ];
    return {
      startedAt: meta.startedAt,
      durationS: round(meta.durationMs / 1000, 1),
      config: meta.config,
      totals,
      windows,
      faults: this.#faults,
      memory: this.#memory,
      examples: this.#examples,
      bars,
      passed: bars.every((b) => b.met),
      load: meta.load,
      origin: meta.origin,
      memorySummary: [0, 1].map((instance) => {
        const mine = this.#memory.filter((m) => m.instance === instance);
        return {
          instance,
          firstRss: mine[0]?.rss ?? 0,
          lastRss: mine[mine.length - 1]?.rss ?? 0,
          peakRss: Math.max(0, ...mine.map((m) => m.rss)),
          peakHeapUsed: Math.max(0, ...mine.map((m) => m.heapUsed)),
        };
      }),
    };
  }
}

/** Adds `o` to `c`; true when `o` breaks a bar. */
function count(c: Counts, o: Outcome): boolean {
  c.requests++;
  if (o.kind === 'read') c.reads++;
  else c.writes++;
  let problem = false;
  if (o.status === 0 || o.status >= 500 || !EXPECTED.has(o.status)) {
    c.errorsServed++;
    problem = true;
  }
  if (o.status >= 500) c.serverErrors++;
  if (o.latencyMs > 5_000) {
    c.over5s++;
    problem = true;
  }
  if (o.kind === 'read') {
    if (o.xCache === 'HIT') c.hits[o.instance]!++;
    else if (o.xCache === 'MISS') c.misses++;
    else if (o.xCache === 'STALE') c.staleServed++;
    else if (o.xCache === 'BYPASS') c.bypass++;
  }
  const v = o.verdict;
  if (v !== undefined) {
    if (v.wrongUser) c.wrongUser++;
    if (v.wrongResource || v.wrongVariant || v.malformed) c.wrongOther++;
    if (v.stale) c.staleReads++;
    if (v.wrongUser || v.wrongResource || v.wrongVariant || v.malformed || v.stale) problem = true;
  }
  return problem;
}

function bar(name: string, value: number, max: number): Bar {
  return { name, value, limit: `= ${max}`, met: value <= max };
}

/** The `q` quantile of `values` (nearest rank), in ms to 0.1. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return round(sorted[i]!, 1);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const mb = (bytes: number | undefined) =>
  bytes === undefined ? '-' : (bytes / 1024 / 1024).toFixed(0);

/** The summary table: one line per window, the totals, then the bars. */
export function formatReport(r: SoakReport): string {
  const head = [
    '   t(s)',
    '   req',
    ' err',
    ' 5xx',
    'wrong',
    'stale',
    ' p50ms',
    ' p99ms',
    '>5s',
    ' hit%',
    ' rssA/heapA MB',
    ' rssB/heapB MB',
    ' redis',
  ];
  const lines = [head.join(' ')];
  for (const w of r.windows) {
    const hits = w.hits[0] + w.hits[1];
    lines.push(
      [
        `${String(w.from).padStart(3)}-${String(w.to).padEnd(3)}`,
        String(w.requests).padStart(6),
        String(w.errorsServed).padStart(4),
        String(w.serverErrors).padStart(4),
        String(w.wrongUser + w.wrongOther).padStart(5),
        String(w.staleReads).padStart(5),
        w.p50.toFixed(1).padStart(6),
        w.p99.toFixed(1).padStart(6),
        String(w.over5s).padStart(3),
        (w.reads === 0 ? 0 : (100 * hits) / w.reads).toFixed(0).padStart(5),
        `${mb(w.memory[0]?.rss)}/${mb(w.memory[0]?.heapUsed)}`.padStart(14),
        `${mb(w.memory[1]?.rss)}/${mb(w.memory[1]?.heapUsed)}`.padStart(14),
        ` ${w.faults.join(', ')}`,
      ].join(' '),
    );
  }
  const t = r.totals;
  lines.push('');
  lines.push(
    `total: ${t.requests} requests (${t.reads} reads, ${t.writes} writes) in ${r.durationS} s, ${t.ratePerS}/s` +
      `${t.shed > 0 ? ` (${t.shed} not sent: in-flight cap)` : ''}; p50 ${t.p50} ms, p99 ${t.p99} ms, max ${t.max} ms`,
  );
  lines.push(
    `reads: ${t.hits[0] + t.hits[1]} HIT (A ${t.hits[0]}, B ${t.hits[1]}), ${t.misses} MISS, ${t.staleServed} STALE, ${t.bypass} BYPASS`,
  );
  lines.push(
    `origin: ${r.origin.reads} reads, ${r.origin.writes} writes; ` +
      r.memorySummary
        .map(
          (m) =>
            `serve ${m.instance === 0 ? 'A' : 'B'} RSS ${mb(m.firstRss)} → ${mb(m.lastRss)} MB (peak ${mb(m.peakRss)}, heap peak ${mb(m.peakHeapUsed)})`,
        )
        .join(', '),
  );
  lines.push(
    `load average: ${r.load.start.map((n) => n.toFixed(1)).join(' ')} at the start, ${r.load.end.map((n) => n.toFixed(1)).join(' ')} at the end`,
  );
  lines.push('');
  for (const b of r.bars) {
    lines.push(`${b.met ? 'PASS' : 'FAIL'}  ${b.name}: ${b.value} (bar ${b.limit})`);
  }
  lines.push(r.passed ? 'soak: every bar met' : 'soak: FAILED');
  return lines.join('\n');
}
