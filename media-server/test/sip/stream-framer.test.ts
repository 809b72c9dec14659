import { describe, expect, it } from 'vitest';
import { StreamFramer, type FramerEvent } from '../../src/sip/transport/index.ts';

const message = (body = '') =>
  `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const frames = (events: FramerEvent[]) =>
  events.filter((e) => e.kind === 'message').map((e) => (e.kind === 'message' ? e.frame.toString() : ''));

describe('StreamFramer (RFC 3261 §18.3)', () => {
  it('cuts a message split across chunks at any byte', () => {
    const whole = message('v=0\r\n');
    for (let cut = 1; cut < whole.length; cut++) {
      const framer = new StreamFramer(4096);
      const events = [
        ...framer.push(Buffer.from(whole.slice(0, cut))),
        ...framer.push(Buffer.from(whole.slice(cut))),
      ];
      expect(frames(events)).toEqual([whole]);
      expect(framer.bufferedBytes).toBe(0);
    }
  });

  it('separates coalesced messages using Content-Length, not the blank line', () => {
    const body = 'a=x\r\n\r\nOPTIONS looks like a header\r\n';
    const framer = new StreamFramer(4096);
    expect(frames(framer.push(Buffer.from(message(body) + message() + message('z'))))).toEqual([
      message(body),
      message(),
      message('z'),
    ]);
  });

  it('reports a double CRLF as a ping and a lone CRLF as a keep-alive (RFC 5626 §3.5.1)', () => {
    const framer = new StreamFramer(4096);
    expect(framer.push(Buffer.from('\r\n\r\n')).map((e) => e.kind)).toEqual(['ping']);
    expect(framer.push(Buffer.from('\r\n')).map((e) => e.kind)).toEqual([]);
    expect(framer.push(Buffer.from(message())).map((e) => e.kind)).toEqual(['keepalive', 'message']);
    // A ping split over two chunks is still one ping.
    expect(framer.push(Buffer.from('\r\n\r')).map((e) => e.kind)).toEqual([]);
    expect(framer.push(Buffer.from('\n')).map((e) => e.kind)).toEqual(['ping']);
  });

  it('fails on a message without Content-Length, since the stream cannot be resynchronised', () => {
    const framer = new StreamFramer(4096);
    const events = framer.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n'));
    expect(events).toEqual([{ kind: 'error', reason: 'missing Content-Length on a stream' }]);
    expect(framer.push(Buffer.from(message()))).toEqual([]);
  });

  it('fails on bad or conflicting Content-Length values', () => {
    const bad = new StreamFramer(4096).push(
      Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n'),
    );
    expect(bad).toEqual([{ kind: 'error', reason: 'bad Content-Length' }]);
    const twice = new StreamFramer(4096).push(
      Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\nl: 5\r\n\r\nhello'),
    );
    expect(twice).toEqual([{ kind: 'error', reason: 'conflicting Content-Length' }]);
  });

  it('bounds its buffer: a header section or a message beyond the limit is an error', () => {
    const endless = new StreamFramer(1024);
    expect(endless.push(Buffer.alloc(1000, 'a'))).toEqual([]);
    expect(endless.push(Buffer.alloc(100, 'a'))).toEqual([
      { kind: 'error', reason: 'header section too large' },
    ]);
    expect(endless.bufferedBytes).toBe(0);
    const announced = new StreamFramer(1024).push(
      Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n'),
    );
    expect(announced).toEqual([{ kind: 'error', reason: 'message too large' }]);
  });
});
