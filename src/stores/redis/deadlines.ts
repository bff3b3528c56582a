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
 * order and a tick touches only what it drops, plus one entry.
 *
 * **What a command pays.** One `performance.now()` and two array pushes; no allocation
 * beyond the arrays' amortized growth. The interval ticks every
 * {@link tickFor}(timeout) ms (a tenth of the timeout, 5–100 ms), so a command rejects between
 * `timeout` and `timeout + tick` after it was sent (ioredis: exactly `timeout`, when its
 * event loop is free).
 *
 * **The reply that comes later.** A rejected command keeps its place in the connection's
 * reply queue, as with ioredis's own timeout: its late reply is matched to it and dropped,
 * so no later caller ever receives another's reply.
 *
 * **Left out on purpose.** A user's own client (`client` option) is never wrapped: its own
 * settings apply. Settled entries behind a command still waiting are dropped only once that
 * command settles or expires, so the FIFO can hold up to one timeout's worth of commands.
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
  /** Commands in the order they were sent, from `#head` on. */
  #commands: Command[] = [];
  /** When each was sent (`performance.now()`), same index. */
  #sentAt: number[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #sweep = (): void => this.#expire(performance.now());

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#tickMs = tickFor(timeoutMs);
  }

  /** How many commands are waiting (settled ones not yet dropped included). */
  get pending(): number {
    return this.#commands.length - this.#head;
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
    this.#commands = [];
    this.#sentAt = [];
    this.#head = 0;
  }

  /** Allows the sweep again after `stop()` (the store was started again). */
  resume(): void {
    this.#stopped = false;
  }

  #track(command: Command): void {
    if (this.#stopped) return;
    this.#commands.push(command);
    this.#sentAt.push(performance.now());
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#sweep, this.#tickMs);
      this.#timer.unref();
    }
  }

  /** Drops settled commands from the front and rejects those past their deadline. */
  #expire(now: number): void {
    const commands = this.#commands;
    const sentAt = this.#sentAt;
    const oldest = now - this.#timeoutMs;
    let i = this.#head;
    for (; i < commands.length; i++) {
      const command = commands[i]!;
      if (command.isSettled) continue;
      if (sentAt[i]! > oldest) break;
      command.reject(new Error('Command timed out'));
    }
    if (i === commands.length) {
      // Everything answered: release the arrays and the interval until the next command.
      this.#commands = [];
      this.#sentAt = [];
      this.#head = 0;
      this.#disarm();
      return;
    }
    this.#head = i;
    // Compact once the dropped prefix is most of the arrays, so memory follows what waits.
    if (i > 1024 && i * 2 > commands.length) {
      this.#commands = commands.slice(i);
      this.#sentAt = sentAt.slice(i);
      this.#head = 0;
    }
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
