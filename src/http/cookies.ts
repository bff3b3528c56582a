/**
 * Cookies as credentials: which of a request's cookies matter, and what of them enters a key.
 *
 * A `Cookie` header usually carries a session, so a shared cache must treat it like
 * `Authorization` (RFC 9111 §3.5) unless the policy says which cookies select the response.
 * Analytics cookies (`_ga`, …) never change a response; listed in `ignoreCookies`, they
 * neither make a request credentialed nor enter a key.
 *
 * Parsing follows the `cookie-string` of RFC 6265 §4.2.1 / §5.4: pairs separated by `;`,
 * whitespace around them dropped, the name before the first `=`. Values are kept as raw
 * octets, never decoded, and every occurrence of a name is kept: two requests share a key
 * only when what the origin can read from the named cookies is identical, whatever parser
 * the origin uses. (The `cookie` package decodes values and keeps the first occurrence only —
 * right for reading a cookie, too lenient for keying on one — so it is not used here.)
 */
import { CacheError } from '../core/errors.js';
import { compileGlob, type GlobMatcher } from '../core/glob.js';

/** One `name=value` pair as sent; a segment without `=` has the name ''. */
export type CookiePair = readonly [name: string, value: string];

/** Splits a `Cookie` header into its pairs, in order (RFC 6265 §5.4). */
export function parseCookies(header: string): CookiePair[] {
  const out: CookiePair[] = [];
  for (const segment of header.split(';')) {
    const pair = segment.trim();
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    // A bare `foo` is a cookie with an empty name and the value `foo` (what browsers send
    // for `document.cookie = "foo"`), so it is never silently treated as absent.
    out.push(eq === -1 ? ['', pair] : [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()]);
  }
  return out;
}

/** Cookie names (or Redis-style globs, such as `_ga*`) that never change a response. */
export class IgnoredCookies {
  readonly #exact: ReadonlySet<string>;
  readonly #globs: readonly GlobMatcher[];

  constructor(patterns: readonly string[]) {
    const exact = new Set<string>();
    const globs: GlobMatcher[] = [];
    for (const p of patterns) {
      if (/[*?[\\]/.test(p)) globs.push(compileGlob(p));
      else exact.add(p);
    }
    this.#exact = exact;
    this.#globs = globs;
  }

  /** True when nothing is ignored. */
  get empty(): boolean {
    return this.#exact.size === 0 && this.#globs.length === 0;
  }

  /** Whether the cookie `name` is ignored (names are case-sensitive, RFC 6265 §5.3). */
  has(name: string): boolean {
    if (this.#exact.has(name)) return true;
    for (const g of this.#globs) if (g.test(name)) return true;
    return false;
  }

  /** A new list holding these patterns and `more`. */
  with(more: IgnoredCookies): IgnoredCookies {
    if (more.empty) return this;
    if (this.empty) return more;
    return new IgnoredCookies([...this.patterns(), ...more.patterns()]);
  }

  patterns(): string[] {
    return [...this.#exact, ...this.#globs.map((g) => g.pattern)];
  }
}

/** Validates an `ignoreCookies` list; `what` names the option in the error. */
export function ignoredCookies(
  value: readonly string[] | undefined,
  what: string,
  code: 'INVALID_ARGUMENT' | 'INVALID_CONFIG',
): IgnoredCookies {
  if (value === undefined) return NONE;
  if (!Array.isArray(value)) {
    throw new CacheError(code, `${what} must be an array of cookie names or globs such as "_ga*"`);
  }
  for (const [i, name] of value.entries()) {
    if (typeof name !== 'string' || name.length === 0 || /[\s;=,]/.test(name)) {
      throw new CacheError(
        code,
        `${what}[${i}] must be a cookie name or glob such as "_ga*", got ${JSON.stringify(name)}`,
      );
    }
  }
  return new IgnoredCookies(value);
}

const NONE = new IgnoredCookies([]);

/** Whether a `Cookie` header holds any cookie that is not ignored. */
export function hasMeaningfulCookie(header: string, ignored: IgnoredCookies): boolean {
  if (ignored.empty) return /\S/.test(header.replaceAll(';', ''));
  for (const [name] of parseCookies(header)) if (!ignored.has(name)) return true;
  return false;
}

/**
 * The text a key holds for the whole `Cookie` header: the cookies that are not ignored,
 * sorted by name (the relative order of a repeated name kept), so `a=1; b=2` and `b=2; a=1`
 * share an entry. '' when no cookie is left.
 */
export function cookieKeyText(header: string, ignored: IgnoredCookies): string {
  const pairs = parseCookies(header).filter(([name]) => !ignored.has(name));
  // Array#sort is stable: repeated names keep the order they were sent in.
  pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('; ');
}

/**
 * The text a key holds for the cookies `names` (sorted, deduplicated): each name with every
 * value it was sent with, in order; absent names write nothing, so a request without any of
 * them keys like one without a `Cookie` header. '' when none is present.
 */
export function namedCookiesKeyText(header: string | undefined, names: readonly string[]): string {
  if (header === undefined || names.length === 0) return '';
  const pairs = parseCookies(header);
  let text = '';
  for (const name of names) {
    for (const [n, v] of pairs) if (n === name) text += `${name}\u0000${v}\u0001`;
  }
  return text;
}
