/**
 * Pipelining without its cost when nothing is in flight: commands sent while others await
 * their replies share one socket write.
 *
 * **Why not ioredis's `enableAutoPipelining`.** It defers every command to a
 * `setImmediate` and routes it through a `Pipeline` (an extra promise, callback and
 * `nextTick` per command). Measured on this machine against ioredis's default (a socket
 * write per command): it cost about twice the CPU per GET with one command in flight and
 * gained little or nothing at 100 and 1,000 (bench/README.md). Most of a command's cost in
 * the default mode is that write: a syscall per command.
 *
 * **What this does.** A command sent while the connection already has commands awaiting
 * replies (`commandQueue` not empty) corks the socket until the end of the tick
 * (`process.nextTick`), so every command issued in the same tick leaves in one `writev`.
 * A command sent on an idle connection is written at once, as ioredis does by default, so
 * a sequential caller pays nothing and waits for nothing. Commands still leave in the
 * order they were sent (one socket, one buffer), unlike a mix of direct and deferred
 * writes would.
 *
 * Standalone and Sentinel connections only: a Cluster picks the node's socket inside
 * ioredis, after the point where we could cork it; it writes each command directly.
 */
import type { Command, Redis } from 'ioredis';

/** Makes `client` batch the writes of commands sent while others are in flight. Returns `client`. */
export function batchWrites(client: Redis): Redis {
  const send = client.sendCommand;
  let corked: { uncork(): void } | undefined;
  const uncork = (): void => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  (client as unknown as { sendCommand: unknown }).sendCommand = function (
    this: Redis,
    command: Command,
    ...rest: unknown[]
  ) {
    if (corked === undefined && this.commandQueue.length > 0 && this.status === 'ready') {
      const stream = this.stream;
      if (stream?.writable) {
        stream.cork();
        corked = stream;
        process.nextTick(uncork);
      }
    }
    return (send as (...a: unknown[]) => unknown).call(this, command, ...rest);
  };
  return client;
}
