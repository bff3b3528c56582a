/**
 * Normalising the request values a stored response varies on (RFC 9111 §4.1: "a cache MAY
 * normalize … header field values by combining multiple lines, removing whitespace, or
 * other semantics-preserving changes"), so equivalent requests share one entry instead of
 * each filling the cache with a copy.
 *
 * Only what the field's definition makes meaningless is removed: whitespace around list and
 * parameter delimiters (RFC 9110 §5.6.1, §5.6.6), empty list members, the case of tokens the
 * field defines as case-insensitive, an explicit `q=1` (the default weight, §12.4.2), and the
 * order of codings in `Accept-Encoding`. The order of `Accept` and `Accept-Language` members
 * is kept: servers break ties between equal weights by it. Other fields are only trimmed.
 */

/** The normalised form of `value` for the request field `name` (lowercase). */
export function normaliseVaryValue(name: string, value: string): string {
  switch (name) {
    case 'accept-encoding':
      return normalizeAcceptEncoding(value);
    // Content codings, charsets, language tags (RFC 4647 §2) and media types (RFC 9110
    // §8.3.1) compare case-insensitively; parameter values other than q are left as sent.
    case 'accept-language':
    case 'accept-charset':
      return normaliseList(value, true);
    case 'accept':
      return normaliseList(value, false);
    default:
      return value.trim();
  }
}

/**
 * `Accept-Encoding` reduced to the sorted codings it accepts (q > 0), so `gzip, br` and
 * `br;q=1, gzip` share the variant they were made for: the origin picks one coding, and the
 * codings it may pick from are the same.
 */
export function normalizeAcceptEncoding(value: string): string {
  const codings: string[] = [];
  for (const part of value.split(',')) {
    const [coding, ...params] = part.split(';');
    const name = coding?.trim().toLowerCase();
    if (!name) continue;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    codings.push(name);
  }
  return codings.sort().join(',');
}

/**
 * A list of `token[/token] *(; name=value)` members with OWS removed, empty members dropped,
 * names lowercased (values too when `lowerValues`), and weights written canonically.
 */
function normaliseList(value: string, lowerValues: boolean): string {
  const members: string[] = [];
  for (const raw of value.split(',')) {
    const parts = raw.split(';').map((p) => p.trim());
    const head = parts[0]!.toLowerCase();
    if (head.length === 0) continue;
    const params: string[] = [];
    for (const param of parts.slice(1)) {
      if (param.length === 0) continue;
      const eq = param.indexOf('=');
      const key = (eq === -1 ? param : param.slice(0, eq)).trim().toLowerCase();
      let v = eq === -1 ? '' : param.slice(eq + 1).trim();
      if (key === 'q') {
        const weight = Number(v);
        // §12.4.2: q=1 is the default; 1.000 and 1 are the same weight.
        if (!Number.isNaN(weight)) {
          if (weight === 1) continue;
          v = String(weight);
        }
      } else if (lowerValues) v = v.toLowerCase();
      params.push(eq === -1 ? key : `${key}=${v}`);
    }
    members.push(params.length === 0 ? head : `${head};${params.join(';')}`);
  }
  return members.join(',');
}
