import { Buffer } from 'node:buffer';
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

/**
 * {@link decodeJSON} for bytes held as a one-byte string (one char per byte, see
 * shared-read.ts): pure ASCII — most JSON — is already its own text and is parsed as it is;
 * anything else is decoded from UTF-8 first.
 */
export function decodeJSONText<T>(bytes: string, key: string): T {
  const text =
    Buffer.byteLength(bytes, 'utf8') === bytes.length
      ? bytes
      : Buffer.from(bytes, 'latin1').toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new CacheError('SERIALIZATION', `the value under "${key}" is not valid JSON`, {
      cause: err,
    });
  }
}

/**
 * What a value of type `T` reads back as after a trip through JSON — the type of
 * `getOrSet`'s and `getJSON`'s results. A `Date` (or anything with `toJSON()`) becomes what
 * its `toJSON()` returns; in objects, properties that are functions, symbols or `undefined`
 * are dropped and `readonly` goes; in arrays those become `null`; a `Map` or `Set` becomes
 * an empty object, a typed array an object of numbers. `undefined` at the top stays
 * `undefined` (`getOrSet` returns it without storing it); a top-level function, symbol or
 * `bigint` is `never`. `encodeJSON` rejects several of these at run time (`SERIALIZATION`),
 * so the type describes the widest thing a read can return, never something it cannot.
 */
export type Jsonified<T> = 0 extends 1 & T
  ? T // `any` stays `any`: the caller opted out of checking.
  : unknown extends T
    ? unknown
    : T extends { toJSON(...args: never[]): infer R }
      ? Jsonified<R>
      : T extends string | number | boolean | null | undefined
        ? T
        : T extends bigint | symbol | ((...args: never[]) => unknown)
          ? never
          : T extends ReadonlyMap<unknown, unknown> | ReadonlySet<unknown>
            ? Record<string, never>
            : T extends ArrayBufferView
              ? Record<string, number>
              : T extends readonly unknown[]
                ? { -readonly [I in keyof T]: JsonifiedElement<T[I]> }
                : T extends object
                  ? JsonifiedObject<T>
                  : never;

/** Inside an array, what JSON cannot write becomes `null`. */
type JsonifiedElement<T> = T extends undefined | symbol | ((...args: never[]) => unknown)
  ? null
  : Jsonified<T>;

/** Values JSON leaves out of an object (and writes as `null` in an array). */
type Dropped = undefined | symbol | ((...args: never[]) => unknown);

/** Keys JSON keeps (string and number keys whose value is not always dropped). */
type KeptKey<T, K extends keyof T> = K extends symbol
  ? never
  : [Exclude<T[K], Dropped>] extends [never]
    ? never
    : K;

/** Keys that may be missing after the trip: optional, or whose value may be dropped. */
type MaybeMissingKey<T, K extends keyof T> =
  Pick<T, K> extends Required<Pick<T, K>>
    ? unknown extends T[K]
      ? K
      : [Extract<T[K], Dropped>] extends [never]
        ? never
        : K
    : K;

/**
 * An object's JSON form; a property that may be dropped (its value may be `undefined`, a
 * function or a symbol) becomes optional.
 */
type JsonifiedObject<T> = Flatten<
  {
    -readonly [K in keyof T as KeptKey<T, K> extends MaybeMissingKey<T, K>
      ? never
      : KeptKey<T, K>]-?: Jsonified<T[K]>;
  } & {
    -readonly [K in keyof T as KeptKey<T, K> & MaybeMissingKey<T, K>]?: Jsonified<
      Exclude<T[K], Dropped>
    >;
  }
>;

/** Shows an intersection of object types as one object type in editor hovers. */
type Flatten<T> = { [K in keyof T]: T[K] } & {};
