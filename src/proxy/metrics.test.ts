import { describe, expect, it } from 'vitest';
import { ZERO_HTTP_STATS } from '../http/events.js';
import { MemoryCache } from '../stores/memory/memory-cache.js';
import { createMetrics } from './metrics.js';

describe('the proxy metrics', () => {
  it('exports the latencies recorded on the request path as Prometheus histograms', async () => {
    const metrics = await createMetrics(() => ({ ...ZERO_HTTP_STATS, hits: 2 }), new MemoryCache());
    metrics.total(0.2); // 0.0002 s: the first bucket
    metrics.total(3); // 0.003 s: le 0.005
    metrics.total(60_000); // 60 s: above every bucket
    metrics.origin(40, 200);
    metrics.origin(40, 200);
    metrics.origin(7, 502);
    const { body, contentType } = await metrics.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const total = 'codeai_cache_request_duration_seconds';
    expect(body).toContain(`# TYPE ${total} histogram`);
    expect(body).toContain(`${total}_bucket{le="0.0005"} 1\n`);
    expect(body).toContain(`${total}_bucket{le="0.0025"} 1\n`);
    expect(body).toContain(`${total}_bucket{le="0.005"} 2\n`);
    expect(body).toContain(`${total}_bucket{le="30"} 2\n`);
    expect(body).toContain(`${total}_bucket{le="+Inf"} 3\n`);
    expect(body).toContain(`${total}_count 3\n`);
    expect(body).toMatch(new RegExp(`${total}_sum 60\\.0032\\d*\n`));
    const origin = 'codeai_cache_origin_duration_seconds';
    expect(body).toContain(`${origin}_bucket{le="0.05",status="200"} 2\n`);
    expect(body).toContain(`${origin}_bucket{le="0.01",status="502"} 1\n`);
    expect(body).toContain(`${origin}_count{status="200"} 2\n`);
    expect(body).toContain(`${origin}_count{status="502"} 1\n`);
    expect(body).toContain('codeai_cache_requests_total{outcome="HIT"} 2\n');
  });
});
