/**
 * Targeted cache control (RFC 9213): response fields such as `CDN-Cache-Control` that carry
 * `Cache-Control` directives meant for one class of cache. This cache has an ordered list of
 * the field names it obeys (the middleware's `targetedFields`); the first of them present with
 * a valid, non-empty value replaces `Cache-Control` *and* `Expires` for every decision this
 * cache makes (§2.1). The fields themselves are stored and forwarded untouched: the caches
 * downstream may obey them too.
 */
import { type Directives, parseCacheControl } from './cache-control.js';
import { type FlatHeaders, getFlatJoined } from './headers.js';

/** The targeted fields obeyed by default: the one RFC 9213 §3 defines. */
export const DEFAULT_TARGETED_FIELDS: readonly string[] = ['cdn-cache-control'];

/**
 * The directives of the first field of `fields` (lowercase, in priority order) that the
 * response carries with a valid, non-empty value, or `undefined` when none does — then
 * `Cache-Control` and `Expires` apply as usual.
 */
export function targetedDirectives(
  headers: FlatHeaders,
  fields: readonly string[],
): Directives | undefined {
  for (const name of fields) {
    const value = getFlatJoined(headers, name);
    // §2.2: an empty field, or one that does not parse as a Structured Fields Dictionary,
    // is ignored as if it were absent.
    if (value !== undefined && isSfDictionary(value)) return parseCacheControl(value);
  }
  return undefined;
}

/** A dictionary key (RFC 8941 §3.2): lowercase, starting with a letter or `*`. */
const KEY = /^[a-z*][a-z0-9_.*-]*$/;
/** The bare items of RFC 8941 §3.3: integer, decimal, string, token, byte sequence, boolean. */
const BARE_ITEM =
  /^(?:-?\d{1,15}|-?\d{1,12}\.\d{1,3}|"(?:[ !#-[\]-~]|\\["\\])*"|[A-Za-z*][!#$%&'*+.^_`|~0-9A-Za-z:/-]*|:[A-Za-z0-9+/=]*:|\?[01])$/;

/**
 * Whether `value` is a Structured Fields Dictionary (RFC 8941 §3.2) as far as this cache
 * reads it: comma-separated members `key[=bare-item]` with optional `;key[=bare-item]`
 * parameters. Inner lists are not used by any cache directive and read as invalid.
 */
export function isSfDictionary(value: string): boolean {
  const members = splitOutsideQuotes(value, ',');
  if (members === undefined) return false;
  for (const raw of members) {
    const member = raw.trim();
    if (member.length === 0) return false;
    const parts = splitOutsideQuotes(member, ';');
    if (parts === undefined) return false;
    for (const [i, part] of parts.entries()) {
      const p = i === 0 ? part : part.trimStart();
      const eq = p.indexOf('=');
      const key = eq === -1 ? p : p.slice(0, eq);
      if (!KEY.test(key)) return false;
      if (eq !== -1 && !BARE_ITEM.test(p.slice(eq + 1))) return false;
    }
  }
  return true;
}

/** Splits on `sep` outside double quotes; `undefined` when a quote is left open. */
function splitOutsideQuotes(text: string, sep: string): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === sep) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return undefined;
  out.push(text.slice(start));
  return out;
}
