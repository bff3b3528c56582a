/**
 * `loadCodeAI`: from a `.cai` source to a plan, giving the caching directives the meaning
 * CODEAI.md promises. Every problem is collected (never only the first); a spec with any
 * error yields no plan. Nothing here throws on bad input: whatever the source, the answer
 * is a plan or diagnostics.
 */
import type { Diagnostic } from './diagnostics.js';
import { readIntegration } from './integrations.js';
import { isWriteMethod, link, linkInvalidations } from './invalidation-map.js';
import { parseSpec } from './parser.js';
import type { CodeAIPlan, PlanBackend, PlanEndpoint, PolicySource } from './plan.js';
import {
  fullTemplate,
  normalisePrefix,
  type Segment,
  splitTemplate,
  templateOf,
} from './route-path.js';
import type { EndpointDecl, Entry, MiddlewareDecl, Pos } from './syntax.js';
import { DEFAULT_TTL_MS, last, ValueReader } from './values.js';

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

const AUTH_TYPES = new Set(['authentication', 'auth', 'jwt', 'oauth2', 'apikey', 'basic']);
const CACHE_MIDDLEWARE_KEYS = new Set(['ttl', 'vary_by']);
const CACHE_BLOCK_KEYS = new Set(['ttl', 'prefix', 'url']);

/** Reads a `.cai` spec into a {@link CodeAIPlan}; never throws for anything in `source`. */
export function loadCodeAI(source: string, options: LoadCodeAIOptions = {}): LoadCodeAIResult {
  const { syntax, diagnostics } = parseSpec(String(source), options.strict === true);
  const values = new ValueReader(options.env ?? process.env, diagnostics);
  const ctx = new Semantics(values);

  const apiPrefix = ctx.apiPrefix(syntax.config);
  const backend = ctx.backend(syntax.config);
  const middlewares = ctx.middlewares(syntax.middlewares, backend.defaultTtlMs);
  const endpoints = ctx.endpoints(syntax.endpoints, apiPrefix, backend.defaultTtlMs, middlewares);
  const integrations = syntax.integrations.map((i) =>
    readIntegration(i, values, backend.defaultTtlMs),
  );

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

/** The meanings of config, middleware and endpoint declarations. */
class Semantics {
  readonly #values: ValueReader;

  constructor(values: ValueReader) {
    this.#values = values;
  }

  apiPrefix(config: Entry[]): string {
    const entry = last(config, 'api_prefix');
    if (!entry) return '';
    const value = this.#values.text(entry.value);
    if (value === undefined || (value !== '' && !value.startsWith('/'))) {
      this.#values.report(
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
      const name =
        v.kind === 'block' ? (v.head ?? this.#values.blockType(v.entries)) : this.#values.text(v);
      if (name === 'redis' || name === 'memory') backend.type = name;
      else {
        this.#values.report(
          'error',
          'INVALID_CACHE_CONFIG',
          v.pos,
          `cache backend must be "redis" or "memory", got ${name === undefined ? 'no name' : JSON.stringify(name)}`,
        );
      }
      if (v.kind === 'block') {
        for (const e of v.entries) {
          if (e.key === 'ttl')
            backend.defaultTtlMs = this.#values.ttl(e.value, DEFAULT_TTL_MS, 'cache ttl');
          else if (e.key === 'prefix')
            backend.prefix = this.#values.string(e.value, 'cache prefix');
          else if (e.key === 'url') url = this.#values.string(e.value, 'cache url');
          else if (e.key !== 'type' && !CACHE_BLOCK_KEYS.has(e.key)) {
            this.#values.report(
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
    if (ttl) backend.defaultTtlMs = this.#values.ttl(ttl.value, DEFAULT_TTL_MS, 'cache_ttl');
    const prefix = last(config, 'cache_prefix');
    if (prefix) backend.prefix = this.#values.string(prefix.value, 'cache_prefix');
    const urlEntry = last(config, 'cache_url');
    if (urlEntry) url = this.#values.string(urlEntry.value, 'cache_url');
    if (backend.type === 'redis') {
      url ||= this.#values.env('CACHE_URL') || this.#values.env('REDIS_URL') || undefined;
      if (url) backend.url = url;
    }
    if (backend.prefix === undefined) delete backend.prefix;
    return backend;
  }

  middlewares(decls: MiddlewareDecl[], defaultTtlMs: number): Map<string, ResolvedMiddleware> {
    const map = new Map<string, ResolvedMiddleware>();
    for (const decl of decls) {
      if (map.has(decl.name)) {
        this.#values.report(
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
            mw.ttlMs = this.#values.ttl(e.value, defaultTtlMs, `ttl of middleware "${decl.name}"`);
          else if (e.key === 'vary_by') mw.varyBy = this.#values.varyBy(e.value);
          else if (!CACHE_MIDDLEWARE_KEYS.has(e.key)) {
            this.#values.report(
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
        this.#values.report(
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
        this.#values.report(
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
    const auth = decl.auth && this.#values.text(decl.auth.value);
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
        this.#values.report(
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
      ttlMs = arg ? this.#values.ttl(arg, defaultTtlMs, '@cache TTL') : defaultTtlMs;
      if (!cacheMw) source = { kind: 'annotation' };
    }
    if (decl.cache) {
      ttlMs = this.#values.ttl(decl.cache.value, defaultTtlMs, 'endpoint cache TTL');
      if (!cacheMw) source = { kind: 'endpoint-ttl' };
    }
    const varyBy = [...(cacheMw?.varyBy ?? [])];
    if (authenticated && !varyBy.includes('authorization')) {
      varyBy.push('authorization');
      this.#values.report(
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
        this.#values.report(
          'warning',
          'CACHE_ON_NON_GET',
          a.pos,
          '@invalidates on a GET endpoint is ignored: only writes invalidate',
        );
        continue;
      }
      if (a.args.length === 0) {
        this.#values.report(
          'error',
          'SYNTAX',
          a.pos,
          '@invalidates needs a path, such as @invalidates("/posts")',
        );
      }
      for (const arg of a.args) {
        const target = this.#values.text(arg);
        if (target === undefined || !target.startsWith('/')) {
          this.#values.report(
            'error',
            'SYNTAX',
            arg.pos,
            '@invalidates takes paths such as "/posts/:id"',
          );
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
          this.#values.report(
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
}
