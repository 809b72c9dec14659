import { describe, expect, it } from 'vitest';
import {
  createResponse,
  formatNameAddr,
  formatUri,
  parseNameAddr,
  parseSipMessage,
  parseUri,
  serializeSipMessage,
  SipRequest,
} from '../../src/sip/message/index.ts';

const REGISTER = [
  'REGISTER sip:carillon.test SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK776asdhds;rport',
  'v: SIP/2.0/UDP proxy.example:5060;branch=z9hG4bKabc',
  'Max-Forwards: 70',
  'To: "Alice" <sip:101@carillon.test>',
  'From: "Alice" <sip:101@carillon.test>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example',
  'CSeq: 314159 REGISTER',
  'Contact: <sip:101@10.0.0.5:5062;transport=udp>;expires=3600, <sip:101@10.0.0.6>',
  'Subject: folded',
  '  continuation',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('SIP message parsing (RFC 3261 §7)', () => {
  it('reads a request with compact forms, folding and multi-value headers', () => {
    const r = parseSipMessage(Buffer.from(REGISTER));
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.kind !== 'request') throw new Error('not a request');
    const m = r.message;
    expect(m.method).toBe('REGISTER');
    expect(m.vias().map((v) => [v.transport, v.host, v.port, v.params.get('branch')])).toEqual([
      ['UDP', '10.0.0.5', 5062, 'z9hG4bK776asdhds'],
      ['UDP', 'proxy.example', 5060, 'z9hG4bKabc'],
    ]);
    expect(m.topVia()!.params.has('rport')).toBe(true);
    expect(m.cseq).toEqual({ seq: 314159, method: 'REGISTER' });
    expect(m.from()!.params.get('tag')).toBe('1928301774');
    expect(m.to()!.displayName).toBe('Alice');
    expect(m.contacts().map((c) => c.uri.host)).toEqual(['10.0.0.5', '10.0.0.6']);
    expect(m.contacts()[0]!.params.get('expires')).toBe('3600');
    expect(m.get('subject')).toBe('folded continuation');
  });

  it('round-trips through the serialiser', () => {
    const r = parseSipMessage(Buffer.from(REGISTER));
    if (!r.ok) throw new Error(r.reason);
    const again = parseSipMessage(serializeSipMessage(r.message));
    expect(again.ok).toBe(true);
    if (!again.ok) return;
    expect(again.message.headers.filter((h) => h.name !== 'content-length')).toEqual(r.message.headers.filter((h) => h.name !== 'content-length'));
  });

  it('cuts the body at Content-Length and refuses a short body', () => {
    const invite = (len: number, body: string) =>
      Buffer.from(
        `INVITE sip:102@carillon.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:101@c>;tag=1\r\nTo: <sip:102@c>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: ${len}\r\n\r\n${body}`,
      );
    const ok = parseSipMessage(invite(5, 'v=0\r\nEXTRA'));
    expect(ok.ok && ok.message.body.toString()).toBe('v=0\r\n');
    const short = parseSipMessage(invite(50, 'v=0\r\n'));
    expect(short).toMatchObject({ ok: false, reason: 'body shorter than Content-Length' });
    // Enough was read to answer 400.
    expect(short.ok === false && short.request?.callId).toBe('x');
  });

  it.each([
    ['garbage', 'hello world'],
    ['bad version', 'INVITE sip:a@b SIP/3.0\r\n\r\n'],
    ['no Via', 'OPTIONS sip:a@b SIP/2.0\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n'],
    ['CSeq method mismatch', 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\n\r\n'],
    ['bad URI', 'OPTIONS http://a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n'],
    ['negative length', 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: -4\r\n\r\n'],
    ['bad port', 'OPTIONS sip:a@b:99999 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n'],
  ])('refuses %s without throwing', (_, text) => {
    const r = parseSipMessage(Buffer.from(text));
    expect(r.ok).toBe(false);
  });

  it('builds responses as §8.2.6 says', () => {
    const r = parseSipMessage(Buffer.from(REGISTER));
    if (!r.ok || r.message.kind !== 'request') throw new Error();
    const res = createResponse(r.message, 401, { toTag: 'abc' });
    const text = serializeSipMessage(res).toString();
    expect(text.startsWith('SIP/2.0 401 Unauthorized\r\n')).toBe(true);
    expect(res.getAll('via')).toHaveLength(2);
    expect(res.get('to')).toBe('"Alice" <sip:101@carillon.test>;tag=abc');
    expect(res.get('call-id')).toBe('a84b4c76e66710@pc33.example');
    expect(text).toContain('Content-Length: 0\r\n\r\n');
  });
});

describe('URIs and name-addr (RFC 3261 §19, §20.10)', () => {
  it('parses and formats', () => {
    const u = parseUri('sip:%2B33142@Carillon.Test:5080;transport=tcp;lr?subject=x')!;
    expect([u.user, u.host, u.port, u.params.get('transport'), u.params.has('lr'), u.headers]).toEqual(['+33142', 'carillon.test', 5080, 'tcp', true, 'subject=x']);
    expect(formatUri(u)).toBe('sip:+33142@carillon.test:5080;transport=tcp;lr?subject=x');
    expect(parseUri('tel:+1-415-555-0100')?.user).toBe('+1-415-555-0100');
    expect(parseUri('sip:[2001:db8::1]:5060')?.host).toBe('[2001:db8::1]');
    const na = parseNameAddr('"Bob \\"B\\"" <sip:bob@x.test>;tag=9')!;
    expect(na.displayName).toBe('Bob "B"');
    expect(formatNameAddr(na)).toBe('"Bob \\"B\\"" <sip:bob@x.test>;tag=9');
    expect(parseNameAddr('sip:bob@x.test;tag=9')!.params.get('tag')).toBe('9');
    expect(parseNameAddr('*')!.wildcard).toBe(true);
  });

  it('edits header lists', () => {
    const m = new SipRequest('OPTIONS', 'sip:a@b');
    m.add('Via', 'SIP/2.0/UDP a;branch=z9hG4bK1').prepend('via', 'SIP/2.0/UDP b;branch=z9hG4bK2');
    expect(m.topVia()!.host).toBe('b');
    m.removeFirst('via');
    expect(m.topVia()!.host).toBe('a');
  });
});
