import { CacheError } from './errors.js';

/**
 * JSON that refuses to lie. `JSON.stringify` silently turns `NaN` into `null`, a `Map` into
 * `{}`, drops `undefined` array slots and functions, and throws a bare `TypeError` on
 * `BigInt` and cycles. A cache that stored such values would hand back something else than
 * it was given, so each of those is a `SERIALIZATION` error naming the path.
 *
 * Objects with `toJSON` (a `Date`) are encoded as their JSON form: a cached `Date` reads back
 * as its ISO string, on a hit and on a miss alike (see `getOrSet`).
 */
export function encodeJSON(value: unknown): string {
  if (value === undefined) {
    throw new CacheError('SERIALIZATION', 'undefined cannot be stored as JSON');
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value, checkFaithful);
  } catch (err) {
    if (err instanceof CacheError) throw err;
    throw new CacheError(
      'SERIALIZATION',
      `value cannot be encoded as JSON: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (text === undefined) {
    throw new CacheError('SERIALIZATION', `a ${typeof value} cannot be stored as JSON`);
  }
  return text;
}

function checkFaithful(this: unknown, key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) fail(key, `the number ${value}`);
      return value;
    case 'bigint':
      return fail(key, 'a BigInt');
    case 'function':
    case 'symbol':
      return fail(key, `a ${typeof value}`);
    case 'undefined':
      // Dropping an object property keeps its reading (`o.x` is undefined either way);
      // an array slot would read back as null.
      if (Array.isArray(this)) fail(key, 'undefined in an array');
      return value;
    case 'object':
      if (value instanceof Map || value instanceof Set || value instanceof WeakMap) {
        fail(key, `a ${value.constructor.name}`);
      }
      return value;
    default:
      return value;
  }
}

function fail(key: string, what: string): never {
  const where = key === '' ? 'the value' : `"${key}"`;
  throw new CacheError('SERIALIZATION', `${where} is ${what}, which JSON cannot encode faithfully`);
}

/** Parses stored JSON; corrupt bytes are a `SERIALIZATION` error, never a silent miss. */
export function decodeJSON<T>(bytes: Buffer, key: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new CacheError('SERIALIZATION', `the value under "${key}" is not valid JSON`, {
      cause: err,
    });
  }
}
