import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { endToEnd, mergeRepeated, upstreamRequestHeaders, VIA } from './headers.js';

function fakeRequest(raw: string[], remoteAddress = '10.0.0.9'): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    headers[name] = headers[name] === undefined ? raw[i + 1]! : `${headers[name]}, ${raw[i + 1]}`;
  }
  return { rawHeaders: raw, headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

describe('endToEnd', () => {
  it('drops the hop-by-hop fields and those Connection names, keeping case and repeats', () => {
    const out = endToEnd([
      'Connection',
      'keep-alive, X-Hop',
      'X-Hop',
      '1',
      'Keep-Alive',
      'timeout=5',
      'Transfer-Encoding',
      'chunked',
      'TE',
      'trailers',
      'Upgrade',
      'h2c',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
    ]);
    expect(out).toEqual(['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Via', VIA]);
  });

  it('appends to an existing Via (RFC 9110 §7.6.3)', () => {
    expect(endToEnd(['Via', '1.1 edge'])).toEqual(['Via', `1.1 edge, ${VIA}`]);
  });
});

describe('mergeRepeated', () => {
  it('merges repeated names case-insensitively into one list, in order', () => {
    expect(mergeRepeated(['Set-Cookie', 'a', 'X', '1', 'set-cookie', 'b'])).toEqual([
      'Set-Cookie',
      ['a', 'b'],
      'X',
      '1',
    ]);
  });
});

describe('upstreamRequestHeaders', () => {
  const raw = ['Host', 'shop.example', 'X-Forwarded-For', '6.6.6.6', 'Forwarded', 'for=6.6.6.6'];

  it('replaces X-Forwarded-* and Forwarded from the connection by default', () => {
    expect(upstreamRequestHeaders(fakeRequest(raw), false)).toEqual([
      'Host',
      'shop.example',
      'Via',
      VIA,
      'X-Forwarded-For',
      '10.0.0.9',
      'X-Forwarded-Proto',
      'http',
      'X-Forwarded-Host',
      'shop.example',
    ]);
  });

  it('with trustProxy, keeps them and appends the peer to X-Forwarded-For', () => {
    const out = upstreamRequestHeaders(fakeRequest(raw), true);
    expect(out).toContain('for=6.6.6.6');
    expect(out.slice(-6)).toEqual([
      'x-forwarded-for',
      '6.6.6.6, 10.0.0.9',
      'X-Forwarded-Proto',
      'http',
      'X-Forwarded-Host',
      'shop.example',
    ]);
  });

  it('re-chunks a chunked request body explicitly', () => {
    const out = upstreamRequestHeaders(fakeRequest(['Transfer-Encoding', 'chunked']), false);
    expect(out.slice(0, 2)).toEqual(['Via', VIA]);
    expect(out).toContain('Transfer-Encoding');
  });
});
