/**
 * `loadCodeAI`: from a `.cai` source to a plan, giving the caching directives the meaning
 * CODEAI.md promises. Every problem is collected (never only the first); a spec with any
 * error yields no plan. Nothing here throws on bad input: whatever the source, the answer
 * is a plan or diagnostics.
 */
import type { CodeAIDiagnosticCode, Diagnostic } from './diagnostics.js';
import { isWriteMethod, link, linkInvalidations } from './invalidation-map.js';
import { parseSpec } from './parser.js';
import type {
  CodeAIPlan,
  PlanBackend,
  PlanEndpoint,
  PlanIntegration,
  PlanOperation,
  PolicySource,
} from './plan.js';
import {
  fullTemplate,
  normalisePrefix,
  type Segment,
  splitTemplate,
  templateOf,
} from './route-path.js';
import type { EndpointDecl, Entry, MiddlewareDecl, Pos, Value } from './syntax.js';

/** Options of {@link loadCodeAI}. */
export interface LoadCodeAIOptions {
  /** Accept only what the reference Go parser accepts; the rest is `PLANNED_SYNTAX`. Default `false`. */
  strict?: boolean;
  /** Variables for `env(NAME)`, `CACHE_URL` and `REDIS_URL`. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The file name, recorded in the plan and used by {@link formatDiagnostic}. */
  file?: string;
}

/** What {@link loadCodeAI} answers: a plan and its warnings, or the diagnostics that refused it. */
export type LoadCodeAIResult =
  | { ok: true; plan: CodeAIPlan; diagnostics: Diagnostic[] }
  | { ok: false; plan: undefined; diagnostics: Diagnostic[] };

/** With no config: the memory backend, a 5-minute TTL, no prefix (CODEAI.md). */
const DEFAULT_TTL_MS = 5 * 60_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const AUTH_TYPES = new Set(['authentication', 'auth', 'jwt', 'oauth2', 'apikey', 'basic']);
const CACHE_MIDDLEWARE_KEYS = new Set(['ttl', 'vary_by']);
const CACHE_BLOCK_KEYS = new Set(['ttl', 'prefix', 'url']);
const HEADER_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Reads a `.cai` spec into a {@link CodeAIPlan}; never throws for anything in `source`. */
export function loadCodeAI(source: string, options: LoadCodeAIOptions = {}): LoadCodeAIResult {
  const { syntax, diagnostics } = parseSpec(String(source), options.strict === true);
  const ctx = new Semantics(options.env ?? process.env, diagnostics);

  const apiPrefix = ctx.apiPrefix(syntax.config);
  const backend = ctx.backend(syntax.config);
  const middlewares = ctx.middlewares(syntax.middlewares, backend.defaultTtlMs);
  const endpoints = ctx.endpoints(syntax.endpoints, apiPrefix, backend.defaultTtlMs, middlewares);
  const integrations = syntax.integrations.map((i) => ctx.integration(i));

  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  if (diagnostics.some((d) => d.severity === 'error')) {
    return { ok: false, plan: undefined, diagnostics };
  }
  const plan: CodeAIPlan = { version: 1, backend, apiPrefix, endpoints, integrations, diagnostics };
  if (options.file !== undefined) plan.file = options.file;
  return { ok: true, plan, diagnostics };
}

/** A declared middleware, resolved. */
interface ResolvedMiddleware {
  decl: MiddlewareDecl;
  kind: 'cache' | 'auth' | 'other';
  ttlMs: number;
  varyBy: string[];
}

class Semantics {
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #diagnostics: Diagnostic[];

  constructor(env: Readonly<Record<string, string | undefined>>, diagnostics: Diagnostic[]) {
    this.#env = env;
    this.#diagnostics = diagnostics;
  }

  apiPrefix(config: Entry[]): string {
    const entry = last(config, 'api_prefix');
    if (!entry) return '';
    const value = this.#text(entry.value);
    if (value === undefined || (value !== '' && !value.startsWith('/'))) {
      this.#report(
        'error',
        'INVALID_CACHE_CONFIG',
        entry.value.pos,
        'api_prefix must be a path such as "/api/v1"',
      );
      return '';
    }
    return normalisePrefix(value);
  }

  backend(config: Entry[]): PlanBackend {
    const backend: PlanBackend = { type: 'memory', defaultTtlMs: DEFAULT_TTL_MS };
    let url: string | undefined;
    const cache = last(config, 'cache');
    if (cache) {
      const v = cache.value;
      const name = v.kind === 'block' ? (v.head ?? this.#blockType(v.entries)) : this.#text(v);
      if (name === 'redis' || name === 'memory') backend.type = name;
      else {
        this.#report(
          'error',
          'INVALID_CACHE_CONFIG',
          v.pos,
          `cache backend must be "redis" or "memory", got ${name === undefined ? 'no name' : JSON.stringify(name)}`,
        );
      }
      if (v.kind === 'block') {
        for (const e of v.entries) {
          if (e.key === 'ttl')
            backend.defaultTtlMs = this.#ttl(e.value, DEFAULT_TTL_MS, 'cache ttl');
          else if (e.key === 'prefix') backend.prefix = this.#string(e.value, 'cache prefix');
          else if (e.key === 'url') url = this.#string(e.value, 'cache url');
          else if (e.key !== 'type' && !CACHE_BLOCK_KEYS.has(e.key)) {
            this.#report(
              'warning',
              'UNKNOWN_CACHE_OPTION',
              e.pos,
              `unknown cache option "${e.key}" is ignored`,
            );
          }
        }
      }
    }
    const ttl = last(config, 'cache_ttl');
    if (ttl) backend.defaultTtlMs = this.#ttl(ttl.value, DEFAULT_TTL_MS, 'cache_ttl');
    const prefix = last(config, 'cache_prefix');
    if (prefix) backend.prefix = this.#string(prefix.value, 'cache_prefix');
    const urlEntry = last(config, 'cache_url');
    if (urlEntry) url = this.#string(urlEntry.value, 'cache_url');
    if (backend.type === 'redis') {
      url ||= this.#env.CACHE_URL || this.#env.REDIS_URL || undefined;
      if (url) backend.url = url;
    }
    if (backend.prefix === undefined) delete backend.prefix;
    return backend;
  }

  middlewares(decls: MiddlewareDecl[], defaultTtlMs: number): Map<string, ResolvedMiddleware> {
    const map = new Map<string, ResolvedMiddleware>();
    for (const decl of decls) {
      if (map.has(decl.name)) {
        this.#report(
          'warning',
          'DUPLICATE',
          decl.pos,
          `middleware "${decl.name}" is declared twice; the first declaration is used`,
        );
        continue;
      }
      const kind =
        decl.type === 'cache' ? 'cache' : decl.type && AUTH_TYPES.has(decl.type) ? 'auth' : 'other';
      const mw: ResolvedMiddleware = { decl, kind, ttlMs: defaultTtlMs, varyBy: [] };
      if (kind === 'cache') {
        for (const e of decl.config) {
          if (e.key === 'ttl')
            mw.ttlMs = this.#ttl(e.value, defaultTtlMs, `ttl of middleware "${decl.name}"`);
          else if (e.key === 'vary_by') mw.varyBy = this.#varyBy(e.value);
          else if (!CACHE_MIDDLEWARE_KEYS.has(e.key)) {
            this.#report(
              'warning',
              'UNKNOWN_CACHE_OPTION',
              e.pos,
              `unknown cache option "${e.key}" in middleware "${decl.name}" is ignored`,
            );
          }
        }
      }
      map.set(decl.name, mw);
    }
    return map;
  }

  endpoints(
    decls: EndpointDecl[],
    apiPrefix: string,
    defaultTtlMs: number,
    middlewares: Map<string, ResolvedMiddleware>,
  ): PlanEndpoint[] {
    const endpoints: PlanEndpoint[] = [];
    const byId = new Set<string>();
    const annotated: [PlanEndpoint, EndpointDecl][] = [];
    const segments = new Map<PlanEndpoint, Segment[]>();
    const prefixSegments = splitTemplate(apiPrefix);
    for (const decl of decls) {
      const segs = prefixSegments.concat(splitTemplate(decl.path));
      const path = templateOf(segs);
      const id = `${decl.method} ${path}`;
      if (byId.has(id)) {
        this.#report(
          'warning',
          'DUPLICATE',
          decl.pos,
          `endpoint ${id} is declared twice; the first declaration is used`,
        );
        continue;
      }
      byId.add(id);
      const endpoint: PlanEndpoint = {
        id,
        method: decl.method,
        path,
        params: segs.flatMap((s) => (s.param ? [s.name] : [])),
        middleware: decl.middleware.map((m) => m.name),
        cached: false,
        invalidatedBy: [],
        invalidates: [],
        line: decl.pos.line,
        column: decl.pos.column,
      };
      this.#policy(endpoint, decl, defaultTtlMs, middlewares);
      endpoints.push(endpoint);
      segments.set(endpoint, segs);
      if (decl.annotations.some((a) => a.name === 'invalidates')) annotated.push([endpoint, decl]);
    }
    const segmentsOf = (e: PlanEndpoint) => segments.get(e)!;
    linkInvalidations(endpoints, segmentsOf);
    for (const [w, decl] of annotated) {
      this.#annotatedLinks(w, decl, apiPrefix, endpoints, segmentsOf);
    }
    return endpoints;
  }

  /** Decides whether an endpoint is cached, for how long and keyed by what. */
  #policy(
    endpoint: PlanEndpoint,
    decl: EndpointDecl,
    defaultTtlMs: number,
    middlewares: Map<string, ResolvedMiddleware>,
  ): void {
    let cacheMw: ResolvedMiddleware | undefined;
    let authenticated = false;
    for (const ref of decl.middleware) {
      const mw = middlewares.get(ref.name);
      if (!mw) {
        this.#report(
          'error',
          'UNKNOWN_MIDDLEWARE',
          ref.pos,
          `middleware "${ref.name}" is not declared`,
        );
        continue;
      }
      if (mw.kind === 'cache') cacheMw ??= mw;
      if (mw.kind === 'auth') authenticated = true;
    }
    const auth = decl.auth && this.#text(decl.auth.value);
    if (auth === 'required' || auth === 'optional') authenticated = true;
    if (decl.annotations.some((a) => a.name === 'auth')) authenticated = true;

    const annotation = decl.annotations.find((a) => a.name === 'cache');
    const directives: Pos[] = [];
    if (cacheMw) directives.push(decl.middleware.find((m) => m.name === cacheMw?.decl.name)!.pos);
    if (annotation) directives.push(annotation.pos);
    if (decl.cache) directives.push(decl.cache.pos);
    if (directives.length === 0) return;
    if (decl.method !== 'GET') {
      for (const pos of directives) {
        this.#report(
          'warning',
          'CACHE_ON_NON_GET',
          pos,
          `a cache directive on ${decl.method} ${decl.path} is ignored: only GET endpoints are cached`,
        );
      }
      return;
    }
    // The most specific directive sets the TTL: endpoint `cache:`, then `@cache`, then the middleware.
    let ttlMs = cacheMw?.ttlMs ?? defaultTtlMs;
    let source: PolicySource = cacheMw
      ? { kind: 'middleware', name: cacheMw.decl.name }
      : { kind: 'annotation' };
    if (annotation) {
      const arg = annotation.args[0];
      ttlMs = arg ? this.#ttl(arg, defaultTtlMs, '@cache TTL') : defaultTtlMs;
      if (!cacheMw) source = { kind: 'annotation' };
    }
    if (decl.cache) {
      ttlMs = this.#ttl(decl.cache.value, defaultTtlMs, 'endpoint cache TTL');
      if (!cacheMw) source = { kind: 'endpoint-ttl' };
    }
    const varyBy = [...(cacheMw?.varyBy ?? [])];
    if (authenticated && !varyBy.includes('authorization')) {
      varyBy.push('authorization');
      this.#report(
        'warning',
        'AUTH_WITHOUT_VARY',
        directives[0]!,
        `${decl.method} ${decl.path} is authenticated but its cache does not vary by Authorization: it is cached per Authorization so one user's response never reaches another`,
      );
    }
    endpoint.cached = true;
    endpoint.ttlMs = ttlMs;
    endpoint.varyBy = varyBy;
    endpoint.source = source;
    endpoint.tags = [`codeai:${endpoint.id}`];
  }

  #annotatedLinks(
    w: PlanEndpoint,
    decl: EndpointDecl,
    apiPrefix: string,
    endpoints: PlanEndpoint[],
    segmentsOf: (e: PlanEndpoint) => Segment[],
  ): void {
    for (const a of decl.annotations) {
      if (a.name !== 'invalidates') continue;
      if (!isWriteMethod(w.method)) {
        this.#report(
          'warning',
          'CACHE_ON_NON_GET',
          a.pos,
          '@invalidates on a GET endpoint is ignored: only writes invalidate',
        );
        continue;
      }
      if (a.args.length === 0) {
        this.#report(
          'error',
          'SYNTAX',
          a.pos,
          '@invalidates needs a path, such as @invalidates("/posts")',
        );
      }
      for (const arg of a.args) {
        const target = this.#text(arg);
        if (target === undefined || !target.startsWith('/')) {
          this.#report('error', 'SYNTAX', arg.pos, '@invalidates takes paths such as "/posts/:id"');
          continue;
        }
        const full =
          apiPrefix && target.startsWith(`${apiPrefix}/`)
            ? target
            : fullTemplate(apiPrefix, target);
        const wanted = splitTemplate(full);
        const targets = endpoints.filter((g) => {
          if (g.method !== 'GET') return false;
          const segs = segmentsOf(g);
          return (
            segs.length === wanted.length &&
            segs.every((s, i) => {
              const o = wanted[i]!;
              return s.param ? o.param : !o.param && o.text === s.text;
            })
          );
        });
        if (targets.length === 0) {
          this.#report(
            'warning',
            'UNKNOWN_INVALIDATION_TARGET',
            arg.pos,
            `@invalidates("${target}") names no GET endpoint`,
          );
        }
        for (const g of targets) link(w, g, 'annotation');
      }
    }
  }

  integration(decl: import('./syntax.js').IntegrationDecl): PlanIntegration {
    const integration: PlanIntegration = {
      name: decl.name,
      fallbackToCache: false,
      operations: [],
      line: decl.pos.line,
      column: decl.pos.column,
    };
    const baseUrl = last(decl.entries, 'base_url');
    if (baseUrl) {
      const text = this.#text(baseUrl.value);
      if (text !== undefined) integration.baseUrl = text;
    }
    const def = last(decl.entries, 'default_cache_ttl');
    if (def) integration.defaultTtlMs = this.#ttl(def.value, DEFAULT_TTL_MS, 'default_cache_ttl');
    const fallback = last(decl.entries, 'fallback');
    if (fallback) integration.fallbackToCache = this.#text(fallback.value) === 'cache';
    for (const op of decl.operations) {
      // GraphQL operations are POSTs unless they say otherwise; REST ones default to GET.
      const graphql = this.#text(last(decl.entries, 'type')?.value) === 'graphql';
      const method = (
        this.#text(last(op.entries, 'method')?.value) ?? (graphql ? 'POST' : 'GET')
      ).toUpperCase();
      const operation: PlanOperation = {
        name: op.name,
        method,
        line: op.pos.line,
        column: op.pos.column,
      };
      const path = this.#text(last(op.entries, 'path')?.value);
      if (path !== undefined) operation.path = path;
      const cache = last(op.entries, 'cache');
      if (cache && method !== 'GET') {
        this.#report(
          'warning',
          'CACHE_ON_NON_GET',
          cache.pos,
          `cache on the ${method} operation ${decl.name}.${op.name} is ignored: only GET operations are cached`,
        );
      } else if (cache) {
        operation.ttlMs = this.#ttl(
          cache.value,
          integration.defaultTtlMs ?? DEFAULT_TTL_MS,
          `cache of ${decl.name}.${op.name}`,
        );
      } else if (method === 'GET' && integration.defaultTtlMs !== undefined) {
        operation.ttlMs = integration.defaultTtlMs;
      }
      integration.operations.push(operation);
    }
    return integration;
  }

  /** A TTL in ms: a number is seconds, a duration takes `ms s m h d`; 0 is the default, with a warning. */
  #ttl(value: Value, defaultMs: number, what: string): number {
    let raw: string | undefined;
    if (value.kind === 'number') raw = value.raw;
    else if (value.kind === 'string') raw = value.value.trim();
    const match = raw === undefined ? null : /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw);
    if (!match) {
      this.#report(
        'error',
        'INVALID_TTL',
        value.pos,
        `${what} must be a number of seconds or a duration such as "30s", "5m", "24h", "7d"${raw === undefined ? '' : `, got ${JSON.stringify(raw)}`}`,
      );
      return defaultMs;
    }
    const ms = Number(match[1]) * UNIT_MS[match[2] ?? 's']!;
    if (ms === 0) {
      this.#report(
        'warning',
        'TTL_ZERO_MEANS_DEFAULT',
        value.pos,
        `${what} of 0 means the default TTL (${defaultMs / 1000}s)`,
      );
      return defaultMs;
    }
    if (!Number.isSafeInteger(Math.round(ms))) {
      this.#report('error', 'INVALID_TTL', value.pos, `${what} is too large`);
      return defaultMs;
    }
    return Math.round(ms);
  }

  #varyBy(value: Value): string[] {
    const names: string[] = [];
    const items = value.kind === 'list' ? value.items : [value];
    for (const item of items) {
      const text = this.#text(item);
      if (text === undefined) {
        this.#report(
          'error',
          'INVALID_CACHE_CONFIG',
          item.pos,
          'vary_by lists header names, such as "Authorization, Accept-Language"',
        );
        continue;
      }
      for (const part of text.split(',')) {
        const name = part.trim();
        if (name === '') continue;
        if (!HEADER_RE.test(name)) {
          this.#report(
            'error',
            'INVALID_CACHE_CONFIG',
            item.pos,
            `vary_by: ${JSON.stringify(name)} is not a header name`,
          );
          continue;
        }
        const lower = name.toLowerCase();
        if (!names.includes(lower)) names.push(lower);
      }
    }
    return names;
  }

  #blockType(entries: Entry[]): string | undefined {
    return this.#text(last(entries, 'type')?.value);
  }

  /** The text of a string, identifier or `env(NAME)`; undefined for other values. */
  #text(value: Value | undefined): string | undefined {
    if (!value) return undefined;
    if (value.kind === 'string') return value.value;
    if (value.kind === 'ident') return value.name;
    if (value.kind === 'call' && value.name === 'env') {
      const arg = value.args[0];
      const name =
        arg?.kind === 'string' ? arg.value : arg?.kind === 'ident' ? arg.name : undefined;
      if (name === undefined || value.args.length !== 1) {
        this.#report(
          'error',
          'SYNTAX',
          value.pos,
          'env() takes one variable name, such as env(REDIS_URL)',
        );
        return undefined;
      }
      const v = this.#env[name];
      if (v === undefined) {
        this.#report(
          'warning',
          'ENV_NOT_SET',
          value.pos,
          `environment variable ${name} is not set`,
        );
      }
      return v;
    }
    return undefined;
  }

  #string(value: Value, what: string): string | undefined {
    const text = this.#text(value);
    if (text === undefined && !(value.kind === 'call' && value.name === 'env')) {
      this.#report(
        'error',
        'INVALID_CACHE_CONFIG',
        value.pos,
        `${what} must be a string or env(NAME)`,
      );
    }
    return text;
  }

  #report(
    severity: Diagnostic['severity'],
    code: CodeAIDiagnosticCode,
    at: Pos,
    message: string,
  ): void {
    this.#diagnostics.push({ severity, code, message, line: at.line, column: at.column });
  }
}

function last(entries: Entry[], key: string): Entry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.key === key) return entries[i];
  return undefined;
}
