/**
 * States of the four transaction machines of
 * https://www.rfc-editor.org/rfc/rfc3261#section-17, with `Accepted` from
 * https://www.rfc-editor.org/rfc/rfc6026#section-7.1 (after a 2xx to INVITE).
 *
 * ```
 * INVITE client:      Calling -> Proceeding -> Completed -----> Terminated
 *                        |   \______________/-> Accepted ----/^
 *                        \____________________________________/  (Timer B, transport error)
 * non-INVITE client:  Trying -> Proceeding -> Completed -> Terminated
 * INVITE server:      Proceeding -> Completed -> Confirmed -> Terminated
 *                          \-------> Accepted ---------------/^
 * non-INVITE server:  Trying -> Proceeding -> Completed -> Terminated
 * ```
 *
 * Each machine checks its own allowed moves in its `stateTransition` method.
 */
export type TransactionState =
  'Calling' | 'Trying' | 'Proceeding' | 'Accepted' | 'Completed' | 'Confirmed' | 'Terminated';
