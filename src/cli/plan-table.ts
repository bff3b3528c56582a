/**
 * The human form of a plan, for a terminal: the backend, one row per endpoint with its
 * policy, the invalidation links and the integration policies.
 */
import type { CodeAIPlan } from '../index.js';

/** Renders a plan as aligned plain-text tables. */
export function renderPlanTable(plan: CodeAIPlan): string {
  const out: string[] = [];
  const b = plan.backend;
  const where =
    b.type === 'redis' ? ` at ${b.url ? maskUrl(b.url) : '(no URL: CACHE_URL / REDIS_URL)'}` : '';
  out.push(
    `backend     ${b.type}${where}, default TTL ${formatMs(b.defaultTtlMs)}${b.prefix ? `, prefix "${b.prefix}"` : ''}`,
  );
  out.push(`api_prefix  ${plan.apiPrefix || '(none)'}`);
  out.push('');

  const cachedCount = plan.endpoints.filter((e) => e.cached).length;
  out.push(`ENDPOINTS (${plan.endpoints.length}, ${cachedCount} cached)`);
  out.push(
    ...table(
      ['METHOD', 'PATH', 'TTL', 'VARY BY', 'FROM'],
      plan.endpoints.map((e) => [
        e.method,
        e.path,
        e.cached ? formatMs(e.ttlMs ?? 0) : '-',
        e.cached ? e.varyBy?.join(', ') || '-' : '',
        !e.source
          ? ''
          : e.source.kind === 'middleware'
            ? `middleware ${e.source.name}`
            : e.source.kind === 'annotation'
              ? '@cache'
              : 'cache:',
      ]),
    ),
  );

  const links = plan.endpoints.flatMap((w) =>
    w.invalidates
      .filter((l) => plan.endpoints.find((g) => g.id === l.endpoint)?.cached)
      .map((l) => [w.id, '->', l.endpoint, l.reason]),
  );
  out.push('');
  out.push(`INVALIDATION (successful writes -> cached GETs: ${links.length})`);
  out.push(...(links.length ? table(['WRITE', '', 'DROPS', 'WHY'], links) : ['  (none)']));

  if (plan.integrations.length > 0) {
    out.push('');
    out.push('INTEGRATIONS');
    const rows = plan.integrations.flatMap((i) =>
      i.operations.map((o) => [
        `${i.name}.${o.name}`,
        o.method,
        o.path ?? '',
        o.ttlMs === undefined ? '-' : formatMs(o.ttlMs),
        i.fallbackToCache ? 'cache' : '-',
      ]),
    );
    out.push(...table(['OPERATION', 'METHOD', 'PATH', 'TTL', 'FALLBACK'], rows));
  }
  return `${out.join('\n')}\n`;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()}`;
  return [line(head), ...rows.map(line)];
}

/** `300000` → `5m`, `90000` → `90s`: the largest unit that divides it exactly. */
export function formatMs(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Hides the password of a URL: `redis://:secret@h` → `redis://:***@h`. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
