import type { Logger } from '@carillon/config';
import type { CallPresenceTracker } from '../presence/call-presence.ts';
import type { AppCall } from './app-call.ts';
import type { CallRecords } from './call-records.ts';

/**
 * What the rest of the system keeps of an application call, written by
 * watching its typed events rather than by the call itself: the call record
 * (answered, ended with the caller's media figures) and the caller's
 * presence (on a call while the application has it), with the presence of
 * the extension `bridgeTo` rings. The record's first
 * write is the call's own (`AppCallContext.openRecord`), since the
 * application needs the call's id.
 * Writes of one call are chained, so an end is never written before its answer.
 */
export function watchAppCall(call: AppCall, deps: { records: CallRecords; presence: CallPresenceTracker | null; log: Logger }): void {
  let writes: Promise<void> = Promise.resolve();
  const write = (what: string, step: () => Promise<void>) => {
    writes = writes.then(step).catch((err: unknown) => deps.log.error(`call record not written (${what})`, { sipCallId: call.sipCallId, error: err }));
  };
  call.on('state', (_from, to) => {
    if (to === 'Offered' && call.caller.kind === 'device') deps.presence?.set(call, call.accountId, call.caller.extensionId, 'on_call');
  });
  // The extension bridgeTo rings, as a B2BUA call shows its callee: ringing, then on a call (ending clears it).
  call.on('callee', (extensionId, state) => {
    if (!call.signal.aborted) deps.presence?.set(call, call.accountId, extensionId, state);
  });
  call.on('ending', () => deps.presence?.clear(call));
  call.on('answered', (codec) => {
    const callId = call.callRecordId;
    const legId = call.callerLegRecordId;
    if (callId) write('answered', () => deps.records.answered(callId, legId ? [{ id: legId, codec }] : []));
  });
  call.on('ended', ({ result, hangupBy, stats }) => {
    const callId = call.callRecordId;
    const legId = call.callerLegRecordId;
    if (callId) write('ended', () => deps.records.ended(callId, result, hangupBy, legId ? [{ id: legId, result, rtpStats: stats }] : []));
  });
}
