/**
 * Command timeouts without a timer per command: one sweep per store for every command in
 * flight.
 *
 * **Why.** ioredis's `commandTimeout` arms a `setTimeout` for each command and clears it
 * when the reply arrives. On this machine that costs about 15 % of GET throughput with 100
 * commands in flight: a timer object, an insertion into Node's timer list and a removal,
 * per command. A cache read must still never wait longer than `commandTimeout` on a paused
 * or unreachable server.
 *
 * **Design.** Every command the store's client sends (and its duplicates', such as the
 * getOrSet subscriber) passes through `sendCommand`; the client's own is wrapped once, when
 * the client is created, to append the command and the time it was sent to a FIFO. One
 * interval, running only while the FIFO is not empty, walks it from the front: commands
 * that have settled are dropped, a command older than the timeout is rejected exactly as
 * ioredis's own timer would (`Error('Command timed out')`, which redis-errors.ts maps to
 * `TIMEOUT`, which the circuit breaker counts), and the walk stops at the first command
 * still within its time. Every entry gets the same timeout, so the FIFO is in deadline
 * order and a tick touches only what it drops, plus one entry. Sending a command also
 * drops the answered ones at the front, so the FIFO (a ring) stays as long as what is in
 * flight: commands held past their reply would outlive V8's young generation, and a first
 * version that kept them until the next tick cost more in garbage collection (~2 µs per
 * GET at 100 in flight) than the timers it replaced.
 *
 * **What a command pays.** One `performance.now()`, a check of the ring's front and a slot
 * written; no allocation beyond the ring's growth to the largest number in flight. The
 * interval ticks every {@link tickFor}(timeout) ms (a tenth of the timeout, 5–100 ms), so a
 * command rejects between `timeout` and `timeout + tick` after it was sent (ioredis:
 * exactly `timeout`, when its event loop is free).
 *
 * **What we rely on in ioredis 6**: `sendCommand` and `duplicate` on the client, and a
 * `Command`'s `isSettled` and `reject` — all in its type declarations. Should they change,
 * test/redis/deadlines.test.ts fails (a command on a paused server would hang).
 *
 * **The reply that comes later.** A rejected command keeps its place in the connection's
 * reply queue, as with ioredis's own timeout: its late reply is matched to it and dropped,
 * so no later caller ever receives another's reply.
 *
 * **Left out on purpose.** A user's own client (`client` option) is never wrapped: its own
 * settings apply. Answered commands behind one still waiting (a slow reply on another Cluster
 * node) are dropped only once it settles or expires.
 */
import type { Cluster, Command, Redis } from 'ioredis';

type Client = Redis | Cluster;

/** The sweep's period for a timeout: a tenth of it, at least 5 ms, at most 100 ms. */
export function tickFor(timeoutMs: number): number {
  return Math.min(100, Math.max(5, Math.ceil(timeoutMs / 10)));
}

/** Rejects commands still unanswered `timeoutMs` after they were sent; see the file's essay. */
export class CommandDeadlines {
  readonly #timeoutMs: number;
  readonly #tickMs: number;
  /** A ring of the commands sent, oldest first: `#size` of them from `#head`. */
  #commands: (Command | undefined)[] = new Array(INITIAL_RING);
  /** When each was sent (`performance.now()`), same index. */
  #sentAt = new Float64Array(INITIAL_RING);
  #head = 0;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #sweep = (): void => this.#expire(performance.now());

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#tickMs = tickFor(timeoutMs);
  }

  /** How many commands are waiting (settled ones not yet dropped included). */
  get pending(): number {
    return this.#size;
  }

  /**
   * Puts `client`'s commands under the sweep, and those of every client it duplicates
   * (ioredis copies options, not instance methods). Returns `client`.
   */
  watch<C extends Client>(client: C): C {
    const send = client.sendCommand;
    const duplicate = client.duplicate;
    const track = (command: Command): void => this.#track(command);
    const watched = client as unknown as {
      sendCommand(command: Command, ...rest: unknown[]): unknown;
      duplicate(...args: unknown[]): Client;
    };
    watched.sendCommand = function (this: Client, command: Command, ...rest: unknown[]) {
      const result = (send as (...a: unknown[]) => unknown).call(this, command, ...rest);
      // A command refused on the spot (closed connection) needs no deadline.
      if (!command.isSettled) track(command);
      return result;
    };
    watched.duplicate = (...args: unknown[]): Client =>
      this.watch((duplicate as (...a: unknown[]) => Client).apply(client, args));
    return client;
  }

  /** Stops the sweep for good (commands still waiting are the closing connection's to reject). */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
    this.#commands.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }

  /** Allows the sweep again after `stop()` (the store was started again). */
  resume(): void {
    this.#stopped = false;
  }

  #track(command: Command): void {
    if (this.#stopped) return;
    // Replies come back in order, so the oldest commands settle first: dropping them here
    // keeps the ring as long as what is in flight, and holds no answered command longer
    // than ioredis does (held longer, they would outlive the young generation and cost
    // the GC far more than the sweep saves).
    this.#dropSettled();
    let commands = this.#commands;
    if (this.#size === commands.length) commands = this.#grow();
    const i = (this.#head + this.#size) & (commands.length - 1);
    commands[i] = command;
    this.#sentAt[i] = performance.now();
    this.#size++;
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#sweep, this.#tickMs);
      this.#timer.unref();
    }
  }

  #dropSettled(): void {
    const commands = this.#commands;
    const mask = commands.length - 1;
    while (this.#size > 0 && commands[this.#head]!.isSettled) {
      commands[this.#head] = undefined;
      this.#head = (this.#head + 1) & mask;
      this.#size--;
    }
  }

  /** Drops settled commands from the front and rejects those past their deadline. */
  #expire(now: number): void {
    const commands = this.#commands;
    const mask = commands.length - 1;
    const oldest = now - this.#timeoutMs;
    while (this.#size > 0) {
      const command = commands[this.#head]!;
      if (!command.isSettled) {
        if (this.#sentAt[this.#head]! > oldest) return; // Within its time, and so are all after it.
        command.reject(new Error('Command timed out'));
      }
      commands[this.#head] = undefined;
      this.#head = (this.#head + 1) & mask;
      this.#size--;
    }
    this.#disarm(); // Nothing in flight: no interval until the next command.
  }

  /** Doubles the ring, oldest first at index 0. */
  #grow(): (Command | undefined)[] {
    const old = this.#commands;
    const n = old.length;
    const commands = new Array<Command | undefined>(n * 2);
    const sentAt = new Float64Array(n * 2);
    for (let k = 0; k < n; k++) {
      const j = (this.#head + k) & (n - 1);
      commands[k] = old[j];
      sentAt[k] = this.#sentAt[j]!;
    }
    this.#commands = commands;
    this.#sentAt = sentAt;
    this.#head = 0;
    return commands;
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** The ring's first size (a power of two, as every later size). */
const INITIAL_RING = 64;
