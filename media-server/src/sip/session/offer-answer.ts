/**
 * The offer/answer state of one session (RFC 3264, RFC 3261 §13.2.1), as
 * SIP.js's `SignalingState`: which side owes the other an answer.
 *
 *   NoOffer --local offer--> HaveLocalOffer --remote answer--> Stable
 *      \                                                        /  ^
 *       `--remote offer--> HaveRemoteOffer --local answer------'   |
 *   Stable --(re-INVITE or UPDATE with an offer, either way)--> Have*Offer
 *   Have*Offer --(the request failed: 491, 488…)--> Stable (the previous session stands)
 */
export type OfferAnswerState = 'NoOffer' | 'HaveLocalOffer' | 'HaveRemoteOffer' | 'Stable';

const LEGAL_MOVES: Record<OfferAnswerState, readonly OfferAnswerState[]> = {
  NoOffer: ['HaveLocalOffer', 'HaveRemoteOffer'],
  HaveLocalOffer: ['Stable'],
  HaveRemoteOffer: ['Stable'],
  Stable: ['HaveLocalOffer', 'HaveRemoteOffer'],
};

export class IllegalOfferAnswerMove extends Error {
  constructor(from: OfferAnswerState, to: OfferAnswerState) {
    super(`offer/answer cannot move from ${from} to ${to}`);
    this.name = 'IllegalOfferAnswerMove';
  }
}

/** The one writer of a session's offer/answer state; refuses a move the diagram does not draw. */
export class OfferAnswer {
  #state: OfferAnswerState = 'NoOffer';

  get state(): OfferAnswerState {
    return this.#state;
  }

  /** An offer is out and its answer has not come back, in either direction. */
  get pending(): boolean {
    return this.#state === 'HaveLocalOffer' || this.#state === 'HaveRemoteOffer';
  }

  transition(to: OfferAnswerState): void {
    if (!LEGAL_MOVES[this.#state].includes(to)) throw new IllegalOfferAnswerMove(this.#state, to);
    this.#state = to;
  }
}
