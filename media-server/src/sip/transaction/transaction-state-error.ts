import type { TransactionState } from './transaction-state.ts';

/** The TU asked for something its transaction's state does not allow, such as a second final response. */
export class TransactionStateError extends Error {
  readonly state: TransactionState;

  constructor(message: string, state: TransactionState) {
    super(`${message} (transaction is ${state})`);
    this.name = 'TransactionStateError';
    this.state = state;
  }
}
