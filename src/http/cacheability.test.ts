import { describe, expect, it } from 'vitest';
import { parseCacheControl } from './cache-control.js';
import {
  classifyRequest,
  explicitlyShared,
  fieldsToDrop,
  responseFacts,
  storability,
} from './cacheability.js';
import { IgnoredCookies } from './cookies.js';
import { type CachePolicy, resolvePolicy } from './policy.js';

const policyOf = (p: CachePolicy = {}) =>
  resolvePolicy(p, { maxBodySize: 1 << 20, ignoreCookies: new IgnoredCookies([]) });
const LM = 'Mon, 01 Jan 2029 00:00:00 GMT';

describe('classifyRequest (RFC 9110 §9.2.1, RFC 9111 §4.4)', () => {
  it.each([
    ['GET', 'read'],
    ['HEAD', 'read'],
    ['OPTIONS', 'bypass'],
    ['TRACE', 'bypass'],
    ['POST', 'write'],
    ['PUT', 'write'],
    ['PATCH', 'write'],
    ['DELETE', 'write'],
    ['PURGE', 'write'],
    ['M-SEARCH', 'write'],
    ['LINK', 'write'],
  ])('%s is a %s', (method, kind) => {
    expect(classifyRequest(method, () => undefined, policyOf()).kind).toBe(kind);
  });

  it('reads a Range request (answered from storage) and names the credential', () => {
    const headers: Record<string, string> = { range: 'bytes=0-1', authorization: 'x' };
    const cls = classifyRequest('GET', (n) => headers[n], policyOf());
    expect(cls).toMatchObject({ kind: 'read', credential: 'authorization' });
    const both: Record<string, string> = { authorization: 'x', cookie: 'sid=1' };
    expect(classifyRequest('GET', (n) => both[n], policyOf())).toMatchObject({
      credential: 'cookie',
    });
  });
});

describe('explicitlyShared (RFC 9111 §3.5)', () => {
  it.each([
    ['public, max-age=60', 'authorization', true],
    ['s-maxage=60', 'authorization', true],
    ['max-age=60, must-revalidate', 'authorization', true],
    ['max-age=60', 'authorization', false],
    ['public, max-age=60', 'cookie', true],
    ['s-maxage=60', 'cookie', true],
    // The project's stricter rule for cookies: frameworks send must-revalidate on per-user pages.
    ['max-age=60, must-revalidate', 'cookie', false],
  ] as const)('%s for a request with %s: %s', (cc, credential, shared) => {
    expect(explicitlyShared(parseCacheControl(cc), credential)).toBe(shared);
  });
});

describe('storability (RFC 9111 §3, §4.2.2, §5.2.2)', () => {
  const facts = (status: number, headers: string[], targeted: string[] = []) =>
    responseFacts(status, headers, targeted);
  it.each([
    // Explicit freshness: any final status (§3).
    [302, ['cache-control', 'max-age=60'], {}, undefined],
    [307, ['cache-control', 'max-age=60'], {}, undefined],
    [500, ['cache-control', 'max-age=60'], {}, undefined],
    [599, ['expires', 'Sun, 06 Nov 2050 08:49:37 GMT'], {}, undefined],
    // ... unless the policy lists its statuses.
    [500, ['cache-control', 'max-age=60'], { statuses: [200] }, 'status'],
    // No explicit freshness: the policy's statuses (ttl / validators) or heuristics (§4.2.2).
    [200, [], { ttl: '1m' }, undefined],
    [500, [], { ttl: '1m' }, 'status'],
    [302, [], { ttl: '1m' }, 'status'],
    [501, ['last-modified', LM], {}, undefined],
    [501, ['last-modified', LM], { ttl: '1m' }, 'status'],
    [302, ['last-modified', LM], {}, 'status'],
    // Partial content (§3.3): one understood Content-Range with the complete length; a 206
    // counts as its 200 for the policy's statuses and the heuristic (§4.2.2).
    [206, ['cache-control', 'max-age=60', 'content-range', 'bytes 0-9/100'], {}, undefined],
    [206, ['content-range', 'bytes 0-9/100'], { ttl: '1m' }, undefined],
    [206, ['content-range', 'bytes 0-9/100', 'last-modified', LM], {}, undefined],
    [206, ['cache-control', 'max-age=60'], {}, 'content-range'],
    [206, ['cache-control', 'max-age=60', 'content-range', 'bytes 0-9/*'], {}, 'content-range'],
    [206, ['cache-control', 'max-age=60', 'content-range', 'items 0-9/100'], {}, 'content-range'],
    [206, ['cache-control', 'max-age=60', 'content-range', 'bytes 0-100/100'], {}, 'content-range'],
    // Never: 304, 1xx, and a 416, which answers a Range the key does not hold.
    [304, ['cache-control', 'max-age=60'], {}, 'status'],
    [416, ['cache-control', 'max-age=60'], {}, 'status'],
    // Directives.
    [200, ['cache-control', 'no-store, max-age=60'], {}, 'no-store'],
    [200, ['cache-control', 'no-store, must-understand, max-age=60'], {}, undefined],
    [299, ['cache-control', 'must-understand, max-age=60'], {}, 'status'],
    [200, ['cache-control', 'private, max-age=60'], {}, 'private'],
    [200, ['cache-control', 'private="x-user", max-age=60'], {}, undefined],
    [200, ['cache-control', 'max-age=60', 'set-cookie', 'a=1'], {}, 'set-cookie'],
    [200, ['cache-control', 'max-age=60', 'vary', '*'], {}, 'vary-star'],
  ] as const)('status %s with %j under %j: %s', (status, headers, policy, reason) => {
    expect(storability(facts(status, [...headers]), policyOf(policy))).toBe(reason);
  });

  it('obeys a targeted field over Cache-Control and Expires (RFC 9213 §2.1)', () => {
    const headers = ['cache-control', 'max-age=60', 'cdn-cache-control', 'no-store'];
    expect(storability(facts(200, headers, ['cdn-cache-control']), policyOf())).toBe('no-store');
    expect(storability(facts(200, headers), policyOf())).toBeUndefined();
    const f = facts(200, ['expires', LM, 'cdn-cache-control', 'no-cache'], ['cdn-cache-control']);
    expect(f.targeted).toBe(true);
  });

  it('drops the fields private="…" and no-cache="…" name (§5.2.2.4, §5.2.2.7)', () => {
    const f = facts(200, ['cache-control', 'private="X-User", no-cache="x-a, x-b"']);
    expect(fieldsToDrop(f).sort()).toEqual(['x-a', 'x-b', 'x-user']);
  });
});
