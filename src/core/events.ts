import { Emitter } from './emitter.js';
import type { CacheEventName, CacheEvents } from './types.js';

/** The `node:diagnostics_channel` name each event is published on, e.g. `codeai-cache:hit`. */
export const channelName = (event: CacheEventName): string => `codeai-cache:${event}`;

const CHANNEL_EVENTS = [
  'hit',
  'miss',
  'set',
  'delete',
  'evict',
  'stale',
  'refresh',
  'invalidate',
  'outbox',
  'breaker',
  'error',
] as const satisfies readonly CacheEventName[];

/** What diagnostics_channel subscribers receive: the event's payload plus the cache's name. */
export type ChannelMessage<E extends CacheEventName> = CacheEvents[E] & { cache: string };

/**
 * Typed events for one cache instance (the library's one emitter, emitter.ts), also published
 * on `node:diagnostics_channel` with the cache's name added.
 */
export class CacheEmitter extends Emitter<CacheEvents> {
  constructor(source: string) {
    super(CHANNEL_EVENTS, channelName, (payload) => ({ ...payload, cache: source }));
  }
}
