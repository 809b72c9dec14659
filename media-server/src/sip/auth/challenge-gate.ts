import { createHash } from 'node:crypto';
import { BoundedMap } from '../../cache/bounded-map.ts';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.ts';
import type { SipSource } from '../transport/index.ts';
import type { DigestAuthority } from './digest-challenge.ts';
import { SourceRateLimit } from './source-rate-limit.ts';

/** What the gate asks of the authentication throttle (the registrar's FailureThrottle): is this address refused as a whole? */
export interface AddressThrottle {
  isThrottled(address: string, user: null): boolean;
}

/** What the gate does with a new request: answer it without a transaction, drop it, or let it through (null). */
export type GateVerdict = SipResponse | 'drop' | null;

/**
 * Challenges requests that carry no credentials statelessly: an INVITE
 * without Proxy-Authorization gets its 407, a REGISTER without Authorization
 * its 401, once, and no transaction is kept (RFC 3261 §8.2.7 allows a
 * stateless UAS). So a flood of unauthenticated requests costs neither
 * memory beyond a bounded table (no transaction, no Timer G retransmissions
 * of the 407, §17.2.1) nor more traffic than it sends. Answers to one source
 * address are rate-limited; past the limit its requests are dropped
 * unanswered.
 *
 * A retransmitted request gets the same answer as the original, nonce
 * included: a client whose request crossed our slow answer would otherwise
 * see a second, different challenge arrive while it waits for the answer to
 * its authenticated retry, and a strict one (SIPp) aborts. The nonces of
 * recent answers are kept in a bounded table for that, for 64*T1 (the
 * longest a client retransmits, §17.1.2.2).
 */
export class ChallengeGate {
  private readonly auth: DigestAuthority;
  private readonly throttle: AddressThrottle;
  /** Whether an address is a trusted carrier's; null when not known right now (the request then goes the stateful way). */
  private readonly isTrunk: (address: string) => boolean | null;
  readonly limit: SourceRateLimit;
  /** Requests answered or dropped here, for monitoring and tests. */
  readonly counts = { challenged: 0, refused: 0, dropped: 0 };
  /** statelessTag → nonce and when it was sent, of recent challenges; a flood evicts its own entries first. */
  private readonly recentNonces = new BoundedMap<string, { nonce: string; at: number }>(RECENT_CHALLENGES);

  constructor(deps: { auth: DigestAuthority; throttle: AddressThrottle; perSourcePerSecond: number; isTrunk?: (address: string) => boolean | null }) {
    this.auth = deps.auth;
    this.throttle = deps.throttle;
    this.isTrunk = deps.isTrunk ?? (() => false);
    this.limit = new SourceRateLimit({ perSecond: deps.perSourcePerSecond, burst: 2 * deps.perSourcePerSecond });
  }

  answer(req: SipRequest, source: SipSource): GateVerdict {
    let status: 401 | 407;
    if (req.method === 'INVITE') {
      // A re-INVITE belongs to a dialog; one with credentials goes to the call engine.
      if (req.has('proxy-authorization') || req.to()?.params.get('tag')) return null;
      // Carriers are trusted by address and never see a challenge.
      if (this.isTrunk(source.remoteAddress) !== false) return null;
      status = 407;
    } else if (req.method === 'REGISTER') {
      if (req.has('authorization')) return null;
      status = 401;
    } else {
      return null;
    }
    // Per method: an office's phones re-registering all at once do not stop its calls, nor the reverse.
    if (!this.limit.take(`${req.method} ${source.remoteAddress}`)) {
      this.counts.dropped++;
      return 'drop';
    }
    // §8.2.7: a stateless UAS makes the same To tag for the same request.
    const toTag = statelessTag(req);
    if (this.throttle.isThrottled(source.remoteAddress, null)) {
      this.counts.refused++;
      return createResponse(req, 403, { reason: 'Too Many Failed Attempts', toTag });
    }
    this.counts.challenged++;
    const res = createResponse(req, status, { toTag });
    for (const c of this.auth.challenges(false, this.nonceFor(toTag))) res.add(status === 407 ? 'proxy-authenticate' : 'www-authenticate', c);
    return res;
  }

  /** The nonce already sent for this request if it is a retransmission, else a new one. */
  private nonceFor(requestTag: string, now = Date.now()): string {
    const recent = this.recentNonces.get(requestTag);
    if (recent && now - recent.at < RETRANSMISSION_WINDOW_MS) return recent.nonce;
    const nonce = this.auth.newNonce(now);
    this.recentNonces.set(requestTag, { nonce, at: now });
    return nonce;
  }
}

/** 64*T1 with T1 = 500 ms: a client stops retransmitting a request after this (RFC 3261 §17.1.2.2, Timer F). */
const RETRANSMISSION_WINDOW_MS = 32_000;
/** Recent challenges remembered for their retransmissions: ~1.5 MB at most. */
const RECENT_CHALLENGES = 10_000;

/** The To tag of a stateless answer: the same for every retransmission of one request (RFC 3261 §8.2.7). */
export function statelessTag(req: SipRequest): string {
  const branch = req.topVia()?.params.get('branch') ?? '';
  return createHash('sha256').update(`${req.callId}\n${req.from()?.params.get('tag') ?? ''}\n${branch}`).digest('hex').slice(0, 12);
}
