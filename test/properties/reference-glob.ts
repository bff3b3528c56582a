/**
 * A reference glob matcher for the property tests, written from Redis's `stringmatchlen`
 * (util.c) in its recursive form, independently of src/core/glob.ts (which compiles patterns
 * and matches without recursion). Matches UTF-8 bytes, as Redis does.
 */

/** Redis's glob matcher, byte for byte (recursive, as util.c writes it). */
export function redisMatch(pattern: Uint8Array, subject: Uint8Array): boolean {
  const signed = (b: number) => (b >= 128 ? b - 256 : b);
  const match = (p: number, s: number): boolean => {
    while (p < pattern.length && s < subject.length) {
      const c = pattern[p]!;
      if (c === 0x2a /* * */) {
        while (p + 1 < pattern.length && pattern[p + 1] === 0x2a) p++;
        if (p + 1 === pattern.length) return true;
        for (let k = s; k < subject.length; k++) if (match(p + 1, k)) return true;
        return false;
      }
      if (c === 0x3f /* ? */) {
        s++;
      } else if (c === 0x5b /* [ */) {
        p++;
        const not = pattern[p] === 0x5e;
        if (not) p++;
        let hit = false;
        for (;;) {
          if (p < pattern.length && pattern[p] === 0x5c && pattern.length - p >= 2) {
            p++;
            if (pattern[p] === subject[s]) hit = true;
          } else if (p < pattern.length && pattern[p] === 0x5d) {
            break;
          } else if (p >= pattern.length) {
            p--;
            break;
          } else if (pattern.length - p >= 3 && pattern[p + 1] === 0x2d) {
            let lo = signed(pattern[p]!);
            let hi = signed(pattern[p + 2]!);
            if (lo > hi) [lo, hi] = [hi, lo];
            const x = signed(subject[s]!);
            p += 2;
            if (x >= lo && x <= hi) hit = true;
          } else if (pattern[p] === subject[s]) {
            hit = true;
          }
          p++;
        }
        if (not) hit = !hit;
        if (!hit) return false;
        s++;
      } else {
        if (c === 0x5c /* \ */ && pattern.length - p >= 2) p++;
        if (pattern[p] !== subject[s]) return false;
        s++;
      }
      p++;
      if (s === subject.length) {
        while (p < pattern.length && pattern[p] === 0x2a) p++;
        break;
      }
    }
    return p === pattern.length && s === subject.length;
  };
  return match(0, 0);
}

/** {@link redisMatch} on strings, as their UTF-8 bytes. */
export function redisMatchText(pattern: string, key: string): boolean {
  return redisMatch(Buffer.from(pattern, 'utf8'), Buffer.from(key, 'utf8'));
}
