/**
 * Integration policies (CODEAI.md): an operation's `cache:` TTL, the integration's
 * `default_cache_ttl` for GET operations that give none, and `fallback: cache`.
 */
import type { PlanIntegration, PlanOperation } from './plan.js';
import type { IntegrationDecl } from './syntax.js';
import { last, type ValueReader } from './values.js';

/** The policy of one integration block; `defaultTtlMs` is what `ttl: 0` means. */
export function readIntegration(
  decl: IntegrationDecl,
  values: ValueReader,
  defaultTtlMs: number,
): PlanIntegration {
  const integration: PlanIntegration = {
    name: decl.name,
    fallbackToCache: false,
    operations: [],
    line: decl.pos.line,
    column: decl.pos.column,
  };
  const baseUrl = last(decl.entries, 'base_url');
  if (baseUrl) {
    const text = values.text(baseUrl.value);
    if (text !== undefined) integration.baseUrl = text;
  }
  const def = last(decl.entries, 'default_cache_ttl');
  if (def) integration.defaultTtlMs = values.ttl(def.value, defaultTtlMs, 'default_cache_ttl');
  const fallback = last(decl.entries, 'fallback');
  if (fallback) integration.fallbackToCache = values.text(fallback.value) === 'cache';
  for (const op of decl.operations) {
    // GraphQL operations are POSTs unless they say otherwise; REST ones default to GET.
    const graphql = values.text(last(decl.entries, 'type')?.value) === 'graphql';
    const method = (
      values.text(last(op.entries, 'method')?.value) ?? (graphql ? 'POST' : 'GET')
    ).toUpperCase();
    const operation: PlanOperation = {
      name: op.name,
      method,
      line: op.pos.line,
      column: op.pos.column,
    };
    const path = values.text(last(op.entries, 'path')?.value);
    if (path !== undefined) operation.path = path;
    const cache = last(op.entries, 'cache');
    if (cache && method !== 'GET') {
      values.report(
        'warning',
        'CACHE_ON_NON_GET',
        cache.pos,
        `cache on the ${method} operation ${decl.name}.${op.name} is ignored: only GET operations are cached`,
      );
    } else if (cache) {
      operation.ttlMs = values.ttl(
        cache.value,
        integration.defaultTtlMs ?? defaultTtlMs,
        `cache of ${decl.name}.${op.name}`,
      );
    } else if (method === 'GET' && integration.defaultTtlMs !== undefined) {
      operation.ttlMs = integration.defaultTtlMs;
    }
    integration.operations.push(operation);
  }
  return integration;
}
