import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RtpHeader as WeriftRtpHeader, SrtcpSession, SrtpSession as WeriftSrtpSession } from 'werift';
import { buildReceiverReport, buildSenderReport, parseRtcpCompound } from '../../src/media/rtp/rtcp-packet.ts';
import { parseRtpHeader, writeRtpHeader } from '../../src/media/rtp/rtp-header.ts';
import { AesCmKeystream } from '../../src/media/srtp/aes-cm-keystream.ts';
import { PrekeyedHmacSha1 } from '../../src/media/srtp/hmac-sha1.ts';
import { ReplayWindow } from '../../src/media/srtp/replay-window.ts';
import { formatSdesInlineKey, generateSrtpMasterKey, parseSdesInlineKey } from '../../src/media/srtp/sdes-crypto.ts';
import { SrtcpContext } from '../../src/media/srtp/srtcp-context.ts';
import { SrtpContext } from '../../src/media/srtp/srtp-context.ts';
import { deriveSrtpKey, deriveSrtpSessionKeys } from '../../src/media/srtp/srtp-key-derivation.ts';
import type { SrtpMasterKey } from '../../src/media/srtp/srtp-profile.ts';
import { createSrtpTransform } from '../../src/media/srtp/srtp-transform.ts';

/** Every SRTP transform MEDIA_NATIVE can select: TypeScript, and the addon of media-server/native. */
const IMPLEMENTATIONS = ['js', 'native'] as const;

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const RFC_MASTER: SrtpMasterKey = { key: hex('E1F97A0D3E018BE0D64FA32C06DE4139'), salt: hex('0EC675AD498AFEEBB6960B3AABE6') };

function rtp(seq: number, ssrc: number, payload: Buffer, timestamp = seq * 160): Buffer {
  const buf = Buffer.alloc(12 + payload.length);
  writeRtpHeader(buf, { payloadType: 0, sequenceNumber: seq, timestamp, ssrc });
  payload.copy(buf, 12);
  return buf;
}

const WERIFT_AES_CM_80 = 1;

function weriftSession(local: SrtpMasterKey, remote: SrtpMasterKey) {
  const keys = { localMasterKey: Buffer.from(local.key), localMasterSalt: Buffer.from(local.salt), remoteMasterKey: Buffer.from(remote.key), remoteMasterSalt: Buffer.from(remote.salt) };
  return {
    srtp: new WeriftSrtpSession({ keys, profile: WERIFT_AES_CM_80 }),
    srtcp: new SrtcpSession({ keys, profile: WERIFT_AES_CM_80 }),
  };
}

describe('RFC 3711 Appendix B test vectors', () => {
  it('B.3: derives the session cipher key, salt and auth key', () => {
    expect(deriveSrtpKey(RFC_MASTER, 0, 16).toString('hex').toUpperCase()).toBe('C61E7A93744F39EE10734AFE3FF7A087');
    expect(deriveSrtpKey(RFC_MASTER, 2, 14).toString('hex').toUpperCase()).toBe('30CBBC08863D8C85D49DB34A9AE1');
    expect(deriveSrtpKey(RFC_MASTER, 1, 94)).toEqual(
      hex(`CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
           E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
           6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2`),
    );
    const keys = deriveSrtpSessionKeys(RFC_MASTER, false);
    expect(keys.authKey.toString('hex').toUpperCase()).toBe('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  });

  it('B.2: produces the AES-CM keystream, start and end of the 1044512-byte segment', () => {
    const ks = new AesCmKeystream(hex('2B7E151628AED2A6ABF7158809CF4F3C'), hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'));
    const segment = Buffer.alloc(1044512);
    ks.xor(segment, 0, segment.length, 0, 0, 0);
    expect(segment.subarray(0, 48).toString('hex').toUpperCase()).toBe(
      'E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0',
    );
    expect(segment.subarray(-48).toString('hex').toUpperCase()).toBe(
      'EC8CDF7398607CB0F2D21675EA9EA1E4362B7C3C6773516318A077D7FC5073AE6A2CC3787889374FBEB4C81B17BA6C44',
    );
  });

  it.each(IMPLEMENTATIONS)('B.2 through the %s SRTP transform, at an offset and in odd lengths', (implementation) => {
    const t = createSrtpTransform({ cipherKey: hex('2B7E151628AED2A6ABF7158809CF4F3C'), cipherSalt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), authKey: Buffer.alloc(20) }, implementation);
    expect(t.implementation).toBe(implementation);
    const segment = Buffer.alloc(1044512 + 3);
    t.xor(segment, 3, 1044512, 0, 0, 0);
    expect(segment.subarray(3, 51).toString('hex').toUpperCase()).toBe(
      'E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0',
    );
    expect(segment.subarray(-48).toString('hex').toUpperCase()).toBe(
      'EC8CDF7398607CB0F2D21675EA9EA1E4362B7C3C6773516318A077D7FC5073AE6A2CC3787889374FBEB4C81B17BA6C44',
    );
    // A packet's keystream starts again at block 0 whatever the previous length was (no carried-over partial block).
    const odd = Buffer.alloc(37);
    t.xor(odd, 0, 37, 0, 0, 0);
    const again = Buffer.alloc(21);
    t.xor(again, 0, 21, 0, 0, 0);
    expect(again).toEqual(odd.subarray(0, 21));
    expect(odd.subarray(0, 16).toString('hex').toUpperCase()).toBe('E03EAD0935C95E80E166B16DD92B4EB4');
  });

  it.each(IMPLEMENTATIONS)('the %s transform tags as HMAC-SHA1 (RFC 2104) with and without the ROC, and verifies', (implementation) => {
    for (let i = 0; i < 20; i++) {
      const authKey = randomBytes(20);
      const t = createSrtpTransform({ cipherKey: randomBytes(16), cipherSalt: randomBytes(14), authKey }, implementation);
      const message = randomBytes(12 + i * 37);
      const roc = i === 3 ? 0xffffffff : i * 1000;
      const buf = Buffer.alloc(message.length + 10);
      message.copy(buf);
      t.sign(buf, message.length, roc, 10);
      const rocBytes = Buffer.alloc(4);
      rocBytes.writeUInt32BE(roc);
      expect(buf.subarray(message.length)).toEqual(createHmac('sha1', authKey).update(message).update(rocBytes).digest().subarray(0, 10));
      expect(t.verify(buf, message.length, roc, 10)).toBe(true);
      expect(t.verify(buf, message.length, (roc + 1) >>> 0, 10)).toBe(false);
      t.sign(buf, message.length, -1, 10);
      expect(buf.subarray(message.length)).toEqual(createHmac('sha1', authKey).update(message).digest().subarray(0, 10));
      buf[message.length + 9]! ^= 1;
      expect(t.verify(buf, message.length, -1, 10)).toBe(false);
    }
  });
});

describe('SRTP building blocks', () => {
  it('pre-keyed HMAC-SHA1 equals createHmac, message after message', () => {
    for (const keyLength of [20, 64, 80]) {
      const key = randomBytes(keyLength);
      const mac = new PrekeyedHmacSha1(key);
      for (let i = 0; i < 20; i++) {
        const data = randomBytes(i * 37);
        expect(mac.digest(data, 0, data.length, i)).toEqual(
          createHmac('sha1', key).update(data).update(Buffer.from([0, 0, 0, i])).digest(),
        );
        expect(mac.digest(data, 3, Math.max(0, data.length - 3))).toEqual(createHmac('sha1', key).update(data.subarray(3)).digest());
      }
    }
  });

  it('replay window accepts new and reordered indexes once, refuses old ones', () => {
    const w = new ReplayWindow(64);
    const take = (i: number) => {
      const ok = w.check(i);
      if (ok) w.accept(i);
      return ok;
    };
    expect(take(1000)).toBe(true);
    expect(take(1000)).toBe(false);
    expect(take(990)).toBe(true);
    expect(take(990)).toBe(false);
    expect(take(1000 - 63)).toBe(true);
    expect(take(1000 - 64)).toBe(false); // out of the window
    expect(take(2 ** 40)).toBe(true);
    expect(take(1001)).toBe(false);
    expect(take(2 ** 40 - 1)).toBe(true);
  });

  it('SDES inline keys parse and format', () => {
    const master = generateSrtpMasterKey();
    const inline = formatSdesInlineKey(master);
    expect(parseSdesInlineKey(inline)).toEqual(master);
    expect(parseSdesInlineKey(`${inline}|2^31`)).toEqual(master);
    expect(parseSdesInlineKey(`${inline}|2^20|1:4`)).toBeNull();
    expect(parseSdesInlineKey('inline:AAAA')).toBeNull();
    expect(parseSdesInlineKey('garbage')).toBeNull();
  });
});

describe.each(IMPLEMENTATIONS)('SrtpContext, %s transform', (implementation) => {
    it('round-trips, refuses replays and tampering, and counts them', () => {
      const master = generateSrtpMasterKey();
      const tx = new SrtpContext(master, 'AES_CM_128_HMAC_SHA1_80', { implementation });
      const rx = new SrtpContext(master, 'AES_CM_128_HMAC_SHA1_80', { implementation });
      expect([tx.transform.implementation, rx.transform.implementation]).toEqual([implementation, implementation]);
      const plain = rtp(1, 0x1234, randomBytes(160));
      const out = Buffer.alloc(1500);
      const n = tx.protect(plain, plain.length, out);
      expect(n).toBe(plain.length + 10);
      expect(out.subarray(12, 172)).not.toEqual(plain.subarray(12));
      const copy = Buffer.from(out.subarray(0, n));
      expect(rx.unprotect(copy, n)).toBe(plain.length);
      expect(copy.subarray(0, plain.length)).toEqual(plain);
      const again = Buffer.from(out.subarray(0, n));
      expect(rx.unprotect(again, n)).toBe(-1);
      expect(rx.replayed).toBe(1);
      const p2 = rtp(2, 0x1234, randomBytes(160));
      const n2 = tx.protect(p2, p2.length, out);
      const tampered = Buffer.from(out.subarray(0, n2));
      tampered[20]! ^= 1;
      expect(rx.unprotect(tampered, n2)).toBe(-1);
      expect(rx.authFailures).toBe(1);
      expect(rx.unprotect(Buffer.alloc(15), 15)).toBe(-1);
      expect(rx.malformed).toBe(1);
      // Protecting in place, into the packet's own spare room.
      const roomy = Buffer.alloc(plain.length + 10);
      rtp(3, 0x1234, Buffer.alloc(160)).copy(roomy);
      expect(tx.protect(roomy, plain.length, roomy)).toBe(plain.length + 10);
      expect(rx.unprotect(roomy, roomy.length)).toBe(plain.length);
    });

    it('_32 tags are the first 4 bytes of the _80 tag', () => {
      const master = generateSrtpMasterKey();
      const p = rtp(77, 5, randomBytes(100));
      const a = Buffer.alloc(200);
      const b = Buffer.alloc(200);
      const n80 = new SrtpContext(master, 'AES_CM_128_HMAC_SHA1_80', { implementation }).protect(p, p.length, a);
      const n32 = new SrtpContext(master, 'AES_CM_128_HMAC_SHA1_32', { implementation }).protect(p, p.length, b);
      expect(n32).toBe(p.length + 4);
      expect(b.subarray(0, n32)).toEqual(a.subarray(0, n80 - 6));
      const rx = new SrtpContext(master, 'AES_CM_128_HMAC_SHA1_32', { implementation });
      expect(rx.unprotect(Buffer.from(b.subarray(0, n32)), n32)).toBe(p.length);
    });

    it('follows the ROC across a wraparound with reordering around it', () => {
      const master = generateSrtpMasterKey();
      const tx = new SrtpContext(master, 'AES_CM_128_HMAC_SHA1_80', { implementation });
      const rx = new SrtpContext(master, 'AES_CM_128_HMAC_SHA1_80', { implementation });
      const protectedPackets: Buffer[] = [];
      for (let i = 0; i < 40; i++) {
        const seq = (65520 + i) & 0xffff;
        const p = rtp(seq, 9, Buffer.from([i]));
        const out = Buffer.alloc(100);
        protectedPackets.push(out.subarray(0, tx.protect(p, p.length, out)));
      }
      // Deliver with the packets either side of the wrap swapped.
      const order = [...protectedPackets.keys()];
      [order[15], order[16]] = [order[16]!, order[15]!];
      [order[17], order[14]] = [order[14]!, order[17]!];
      for (const i of order) {
        const pkt = Buffer.from(protectedPackets[i]!);
        expect(rx.unprotect(pkt, pkt.length), `packet ${i}`).toBe(13);
        expect(pkt[12]).toBe(i);
      }
    });
});

describe.each(IMPLEMENTATIONS)('interop with werift SRTP, %s transform', (implementation) => {
    it('werift decrypts ours and we decrypt werift, across a sequence wraparound', () => {
      const ours = generateSrtpMasterKey();
      const theirs = generateSrtpMasterKey();
      const tx = new SrtpContext(ours, 'AES_CM_128_HMAC_SHA1_80', { implementation });
      const rx = new SrtpContext(theirs, 'AES_CM_128_HMAC_SHA1_80', { implementation });
      const werift = weriftSession(theirs, ours).srtp;
      const out = Buffer.alloc(1500);
      for (let i = 0; i < 300; i++) {
        const seq = (65400 + i) & 0xffff;
        const payload = randomBytes(160);
        const plain = rtp(seq, 0xabcdef01, payload, (i * 160) >>> 0);
        // Ours → werift.
        const n = tx.protect(plain, plain.length, out);
        const decrypted = werift.decrypt(Buffer.from(out.subarray(0, n)));
        expect(decrypted.subarray(0, plain.length)).toEqual(plain);
        // werift → ours.
        const header = new WeriftRtpHeader({ payloadType: 0, sequenceNumber: seq, timestamp: i * 160, ssrc: 0x10203040, marker: i === 0 });
        const encrypted = werift.encrypt(payload, header);
        const m = rx.unprotect(encrypted, encrypted.length);
        expect(m, `werift packet seq ${seq}`).toBeGreaterThan(0);
        const h = parseRtpHeader(encrypted, m)!;
        expect(h.sequenceNumber).toBe(seq);
        expect(encrypted.subarray(h.payloadOffset, m)).toEqual(payload);
      }
    });

    it('SRTCP: werift decrypts ours and we decrypt werift', () => {
      const ours = generateSrtpMasterKey();
      const theirs = generateSrtpMasterKey();
      const tx = new SrtcpContext(ours, 'AES_CM_128_HMAC_SHA1_80', { implementation });
      const rx = new SrtcpContext(theirs, 'AES_CM_128_HMAC_SHA1_80', { implementation });
      const werift = weriftSession(theirs, ours).srtcp;
      const out = Buffer.alloc(1500);
      for (let i = 0; i < 5; i++) {
        const sr = buildSenderReport({ ssrc: 0x55667788, ntpMs: 3.9e12 + i * 1000, rtpTimestamp: i * 8000, packetCount: i * 50, octetCount: i * 8000 });
        const n = tx.protect(sr, sr.length, out);
        expect(werift.decrypt(Buffer.from(out.subarray(0, n)))).toEqual(sr);
        const rr = buildReceiverReport({ ssrc: 0x01020304, reports: [{ ssrc: 0x55667788, fractionLost: i, cumulativeLost: i, extendedHighestSequence: 100 + i, jitter: 3, lastSenderReport: 0, delaySinceLastSenderReport: 0 }] });
        const encrypted = werift.encrypt(rr);
        const m = rx.unprotect(encrypted, encrypted.length);
        expect(m).toBe(rr.length);
        expect(parseRtcpCompound(encrypted, m)).toEqual(parseRtcpCompound(rr));
      }
      // Replay of the last werift packet is refused.
      const rr = buildReceiverReport({ ssrc: 0x01020304 });
      const enc = werift.encrypt(rr);
      expect(rx.unprotect(Buffer.from(enc), enc.length)).toBe(rr.length);
      expect(rx.unprotect(Buffer.from(enc), enc.length)).toBe(-1);
      expect(rx.replayed).toBe(1);
    });
});
