/**
 * A call's state machine, shared by every kind of call (B2buaCall, AppCall):
 * the states, the moves a diagram draws, and the one function that writes the
 * state. A move the table does not list throws `IllegalCallTransition` rather
 * than leaving the call in a state nobody designed (SIP.js
 * `Session.stateTransition` does the same). The last state of the table, the
 * one with no way out, is the call's closed flag.
 */
export type CallMoves<S extends string> = Readonly<Record<S, readonly S[]>>;

export class IllegalCallTransition extends Error {
  readonly from: string;
  readonly to: string;

  constructor(from: string, to: string, what = 'a call') {
    super(`${what} cannot move from ${from} to ${to}`);
    this.name = 'IllegalCallTransition';
    this.from = from;
    this.to = to;
  }
}

export class CallState<S extends string> {
  #state: S;
  private readonly moves: CallMoves<S>;
  private readonly terminal: S;
  private readonly what: string;

  /** `moves`: for each state, where it may go; `terminal`: the state with no way out (the closed flag). `what` names the call in errors. */
  constructor(initial: S, moves: CallMoves<S>, terminal: S, what = 'a call') {
    if (moves[terminal].length > 0) throw new Error(`the terminal state ${terminal} has moves out of it`);
    this.#state = initial;
    this.moves = moves;
    this.terminal = terminal;
    this.what = what;
  }

  get current(): S {
    return this.#state;
  }

  /** The call is over: the terminal state, which nothing leaves. */
  get closed(): boolean {
    return this.#state === this.terminal;
  }

  /** Whether the table draws a move from here to `to`. */
  can(to: S): boolean {
    return this.moves[this.#state].includes(to);
  }

  /** The one writer of the state: moves to `to` and returns where it came from, or throws on a move the table does not draw. */
  transition(to: S): S {
    const from = this.#state;
    if (!this.moves[from].includes(to)) throw new IllegalCallTransition(from, to, this.what);
    this.#state = to;
    return from;
  }
}
