/**
 * `Cache-Control` parsing (RFC 9111 §5.2). Directive names are case-insensitive; unknown
 * directives are kept but nothing reads them, which is how §5.2.3 asks caches to ignore them.
 *
 * A directive given twice with the same argument is given once. Given twice with different
 * arguments it is resolved as §4.2.1 says — "either the first occurrence should be used or
 * the response should be considered stale", and of conflicting directives "the most
 * restrictive should be honored" — see {@link mergeDuplicate}.
 */

/** Parsed directives: lowercase name → its argument, or `true` when it has none. */
export type Directives = Readonly<Record<string, string | true>>;

const EMPTY: Directives = Object.freeze(Object.create(null) as Record<string, string | true>);

/** The largest delta-seconds a cache must handle; larger values are clamped to it (RFC 9111 §1.2.2). */
export const MAX_DELTA_SECONDS = 2_147_483_648;

/** Parses one or more `Cache-Control` field values (an array is several field lines). */
export function parseCacheControl(value: string | readonly string[] | undefined): Directives {
  if (value === undefined) return EMPTY;
  const text = typeof value === 'string' ? value : value.join(',');
  if (text.length === 0) return EMPTY;
  const out = Object.create(null) as Record<string, string | true>;
  let i = 0;
  const n = text.length;
  while (i < n) {
    // name
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === ',')) i++;
    const nameStart = i;
    while (i < n && text[i] !== '=' && text[i] !== ',') i++;
    const name = text.slice(nameStart, i).trim().toLowerCase();
    let arg: string | true = true;
    if (i < n && text[i] === '=') {
      i++;
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (text[i] === '"') {
        // quoted-string with backslash escapes (RFC 9110 §5.6.4)
        i++;
        let s = '';
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < n) i++;
          s += text[i];
          i++;
        }
        i++; // closing quote
        arg = s;
        while (i < n && text[i] !== ',') i++;
      } else {
        const argStart = i;
        while (i < n && text[i] !== ',') i++;
        arg = text.slice(argStart, i).trim();
      }
    }
    if (name.length === 0) continue;
    const previous = out[name];
    out[name] = previous === undefined ? arg : mergeDuplicate(name, previous, arg);
  }
  return out;
}

/** Time limits whose conflicting duplicates read as 0: stale at once, no stale window (§4.2.1). */
const ZERO_ON_CONFLICT = new Set([
  'max-age',
  's-maxage',
  'stale-while-revalidate',
  'stale-if-error',
  'max-stale',
]);

/**
 * The value of a directive seen twice (RFC 9111 §4.2.1). Equal arguments are one directive.
 * `max-age` / `s-maxage` that disagree make the response stale (the RFC's second choice: a
 * cache that trusted the first of two lifetimes could serve for the longer one); the stale
 * windows and a request's `max-stale` take 0, the most restrictive; a request's `min-fresh`
 * takes the larger value; `no-cache` / `private` take the unqualified form when either is,
 * else the union of the named fields; anything else keeps its first occurrence.
 */
function mergeDuplicate(name: string, first: string | true, second: string | true): string | true {
  if (first === second) return first;
  if (ZERO_ON_CONFLICT.has(name)) return '0';
  if (name === 'min-fresh') {
    const a = first === true ? 0 : Number(first);
    const b = second === true ? 0 : Number(second);
    return Number.isNaN(a) || Number.isNaN(b) ? '0' : String(Math.max(a, b));
  }
  if (name === 'no-cache' || name === 'private') {
    if (first === true || second === true) return true;
    return `${first}, ${second}`;
  }
  return first;
}

/**
 * A directive's delta-seconds argument in milliseconds. `undefined` when the directive is
 * absent; an argument that is not a non-negative integer reads as 0, so a malformed
 * `max-age` makes the response stale rather than fresh for ever (RFC 9111 §4.2.1).
 */
export function deltaSecondsMs(directives: Directives, name: string): number | undefined {
  const arg = directives[name];
  if (arg === undefined) return undefined;
  if (arg === true || !/^\d+$/.test(arg)) return 0;
  const seconds = Math.min(Number(arg), MAX_DELTA_SECONDS);
  return seconds * 1000;
}

/**
 * The field names listed in a qualified `no-cache="a, b"` or `private="a"`. Empty when the
 * directive has no argument (it then applies to the whole response).
 */
export function fieldNames(directives: Directives, name: string): string[] {
  const arg = directives[name];
  if (typeof arg !== 'string') return [];
  return arg
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
}
