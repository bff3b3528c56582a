/**
 * Type-level specs: checked by `tsc --noEmit` (`npm run typecheck`, part of `npm test`) and
 * by vitest's typecheck in the `unit` project. Each `expectTypeOf` or `@ts-expect-error`
 * fails the build if the public types regress.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { Duration } from './duration.js';
import type { Jsonified } from './json.js';
import type { Cache, GetOrSetOptions } from './types.js';

declare const cache: Cache;

describe('Jsonified<T>: what a JSON round trip gives back', () => {
  it('keeps JSON primitives, arrays and plain objects as they are', () => {
    expectTypeOf<Jsonified<string>>().toEqualTypeOf<string>();
    expectTypeOf<Jsonified<42 | null | boolean>>().toEqualTypeOf<42 | null | boolean>();
    expectTypeOf<Jsonified<{ n: number; s: string[] }>>().toEqualTypeOf<{
      n: number;
      s: string[];
    }>();
    expectTypeOf<Jsonified<[1, 'a']>>().toEqualTypeOf<[1, 'a']>();
  });

  it('turns a Date into a string, and anything with toJSON into what toJSON returns', () => {
    expectTypeOf<Jsonified<Date>>().toEqualTypeOf<string>();
    expectTypeOf<Jsonified<{ at: Date; when?: Date }>>().toEqualTypeOf<{
      at: string;
      when?: string;
    }>();
    expectTypeOf<Jsonified<{ toJSON(): { id: number } }>>().toEqualTypeOf<{ id: number }>();
    expectTypeOf<Jsonified<Date[]>>().toEqualTypeOf<string[]>();
  });

  it('drops functions, symbols and undefined from objects; may-be-undefined becomes optional', () => {
    type Input = {
      id: number;
      save(): void;
      tag: symbol;
      gone: undefined;
      maybe: string | undefined;
      [Symbol.iterator]: () => void;
    };
    expectTypeOf<Jsonified<Input>>().toEqualTypeOf<{ id: number; maybe?: string }>();
  });

  it('writes null for what JSON cannot write inside an array', () => {
    expectTypeOf<Jsonified<(string | undefined)[]>>().toEqualTypeOf<(string | null)[]>();
    expectTypeOf<Jsonified<(() => void)[]>>().toEqualTypeOf<null[]>();
  });

  it('drops readonly, since JSON.parse builds plain mutable values', () => {
    expectTypeOf<Jsonified<{ readonly a: readonly number[] }>>().toEqualTypeOf<{
      a: number[];
    }>();
  });

  it('turns a Map or a Set into an empty object, a typed array into an object of numbers', () => {
    expectTypeOf<Jsonified<Map<string, number>>>().toEqualTypeOf<Record<string, never>>();
    expectTypeOf<Jsonified<Set<string>>>().toEqualTypeOf<Record<string, never>>();
    expectTypeOf<Jsonified<Uint8Array>>().toEqualTypeOf<Record<string, number>>();
  });

  it('keeps undefined at the top, and has nothing for what JSON cannot write at all', () => {
    expectTypeOf<Jsonified<string | undefined>>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Jsonified<bigint>>().toBeNever();
    expectTypeOf<Jsonified<() => void>>().toBeNever();
  });

  it('leaves unknown unknown, and any any', () => {
    expectTypeOf<Jsonified<unknown>>().toBeUnknown();
    expectTypeOf<Jsonified<{ x: unknown }>>().toEqualTypeOf<{ x?: unknown }>();
    // biome-ignore lint/suspicious/noExplicitAny: the escape hatch must stay one.
    expectTypeOf<Jsonified<any>>().toBeAny();
  });

  it('follows recursive types', () => {
    type Tree = { at: Date; children: Tree[] };
    type Out = { at: string; children: Out[] };
    expectTypeOf<Jsonified<Tree>>().toEqualTypeOf<Out>();
  });
});

describe('Cache results are typed as JSON gives them back', () => {
  it('getOrSet: a Date in the factory becomes a string in the result', () => {
    const result = cache.getOrSet('k', async () => ({ id: 1, at: new Date() }));
    expectTypeOf(result).resolves.toEqualTypeOf<{ id: number; at: string }>();
    expectTypeOf(cache.getOrSet('u', () => undefined)).resolves.toEqualTypeOf<undefined>();
  });

  it('getOrSet: the stale value handed to the factory went through JSON too', () => {
    void cache.getOrSet<{ at: Date }>('k', (ctx) => {
      expectTypeOf(ctx.stale).toEqualTypeOf<{ at: string } | undefined>();
      return { at: new Date() };
    });
  });

  it('getJSON: T is what was stored, the result what JSON gives back', () => {
    expectTypeOf(cache.getJSON<{ at: Date }>('k')).resolves.toEqualTypeOf<
      { at: string } | undefined
    >();
    expectTypeOf(cache.getJSON('k')).resolves.toBeUnknown();
  });
});

describe('Duration: a template literal of what parseDuration reads', () => {
  it('accepts numbers and number-unit strings', () => {
    expectTypeOf<5>().toExtend<Duration>();
    expectTypeOf<'5m'>().toExtend<Duration>();
    expectTypeOf<'250ms'>().toExtend<Duration>();
    expectTypeOf<'1.5s'>().toExtend<Duration>();
    expectTypeOf<'24H'>().toExtend<Duration>();
    expectTypeOf<'100'>().toExtend<Duration>();
  });

  it('refuses words, unknown units and non-strings', () => {
    expectTypeOf<'5 minutes'>().not.toExtend<Duration>();
    expectTypeOf<'5w'>().not.toExtend<Duration>();
    expectTypeOf<'soon'>().not.toExtend<Duration>();
    expectTypeOf<''>().not.toExtend<Duration>();
    expectTypeOf<string>().not.toExtend<Duration>();
    // @ts-expect-error '5 minutes' is not a duration.
    void cache.set('k', 'v', '5 minutes');
    // @ts-expect-error nor is '1 hour' in getOrSet's options.
    const options: GetOrSetOptions = { ttl: '1 hour' };
    void options;
  });
});
