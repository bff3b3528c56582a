import { describe, expect, it } from 'vitest';
import { Flights, waitFor } from './coalesce.js';

describe('Flights', () => {
  it('hands followers the leader result', async () => {
    const flights = new Flights<string>();
    const flight = flights.start('k', 't');
    expect(flights.get('k')).toBe(flight);
    const waiting = waitFor(flight, 1000);
    flights.settle(flight, 'answer');
    expect(await waiting).toBe('answer');
    expect(flights.get('k')).toBeUndefined();
  });

  it('bounds the wait', async () => {
    const flights = new Flights<string>();
    const flight = flights.start('k', 't');
    expect(await waitFor(flight, 10)).toBeUndefined();
    flights.settle(flight, 'late');
  });

  it('detaches flights of invalidated paths so later requests start fresh ones', () => {
    const flights = new Flights<string>();
    const a = flights.start('a', 'path:x/a');
    flights.start('b', 'path:x/b');
    flights.detach(['path:x/a']);
    expect(flights.get('a')).toBeUndefined();
    expect(flights.get('b')).toBeDefined();
    // settling a detached flight must not remove a newer flight for the same key
    const newer = flights.start('a', 'path:x/a');
    flights.settle(a, undefined);
    expect(flights.get('a')).toBe(newer);
  });
});
