import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { analyseWav } from '../support/wav.ts';

/**
 * Calls between SIPp phones through the SIP edge: SIPp plays PCMA audio
 * captured in the pcap files its package ships, so the media engine relays
 * real RTP both ways.
 */
let h: EdgeHarness;
let caller: TestPhone;

beforeAll(async () => {
  h = await startEdge({ noAnswerSeconds: 4 });
  caller = await h.addPhone('101');
});
afterAll(() => h?.stop());
// A callee left waiting by a failed test must not answer the next test's call.
const callees: SippRun[] = [];
afterEach(() => {
  for (const c of callees.splice(0)) c.stop();
});

/** Registers a SIPp callee on a port of its own and starts its scenario on the same port. */
async function callee(extension: string, scenario: string, vars: Record<string, string> = {}) {
  const phone = h.phones.get(extension) ?? (await h.addPhone(extension));
  await h.edge.bindings.removeAll(phone.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: phone, scenario, vars });
  callees.push(run);
  return run;
}

const dial = async (scenario: string, number: string) =>
  runSipp({ scenario, target: h.target, localPort: await freeSipPort(), service: number, auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });

const lastCallRecord = () => h.lastCall();

/** The call log's segments of the session a call record is in, oldest first. */
async function sessionLog(recordId: string) {
  const { session_id } = await h.db.selectFrom('calls').select('session_id').where('id', '=', recordId).executeTakeFirstOrThrow();
  return h.db.selectFrom('calls').select(['id', 'from_number', 'to_number', 'result', 'hangup_by', 'answered_at', 'ended_at']).where('session_id', '=', session_id).orderBy('started_at').execute();
}

describe('calls between SIPp phones', () => {
  it('connects an extension call with RTP both ways, DTMF relayed, BYE from the caller', async () => {
    const before = h.ended.length;
    const uas = await callee('102', 'uas-answer.xml');
    const uac = await dial('uac-call.xml', '102');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const answered = await uas.done;
    expect(answered.code, answered.errors).toBe(0);
    await h.waitForEnded(before + 1);
    const { call, result } = h.ended.at(-1)!;
    expect(result).toBe('answered');
    const a = call.lastStats.find((s) => s.legId === 'a')!;
    const b = call.lastStats.find((s) => s.legId === 'b')!;
    // Audio from the caller reached the callee and the callee's reached the caller.
    expect(a.received.packets).toBeGreaterThan(50);
    expect(b.received.packets).toBeGreaterThan(50);
    expect(b.sent.packets).toBeGreaterThan(50);
    expect(a.sent.packets).toBeGreaterThan(50);
    const cdr = await lastCallRecord();
    expect(cdr).toMatchObject({ result: 'answered', direction: 'internal', from_number: '101', to_number: '102', hangup_by: 'caller' });
    expect(cdr.duration_seconds).toBeGreaterThanOrEqual(3);
    const legs = await h.db.selectFrom('call_legs').selectAll().where('call_id', '=', cdr.id).execute();
    expect(legs.map((l) => [l.role, l.codec]).sort()).toEqual([['callee', 'PCMA'], ['caller', 'PCMA']]);
  });

  it('takes a late offer: INVITE without SDP, our offer in the 200, the answer in the ACK, RTP both ways', async () => {
    const before = h.ended.length;
    const uas = await callee('102', 'uas-answer.xml');
    const uac = await dial('uac-late-offer.xml', '102');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
    await h.waitForEnded(before + 1);
    const { call, result } = h.ended.at(-1)!;
    expect(result).toBe('answered');
    expect(call.lastStats.find((s) => s.legId === 'a')!.received.packets).toBeGreaterThan(50);
    expect(call.lastStats.find((s) => s.legId === 'a')!.sent.packets).toBeGreaterThan(50);
    const legs = await h.db.selectFrom('call_legs').select(['role', 'codec']).where('call_id', '=', call.recordId!).execute();
    expect(legs.find((l) => l.role === 'caller')!.codec).toBe('PCMA');
  });

  it('reports the RFC 4733 digit the caller sends', async () => {
    const digits: string[] = [];
    const uas = await callee('102', 'uas-answer.xml');
    const before = h.ended.length;
    const listener = (e: { digit: string }) => digits.push(e.digit);
    h.media.on('dtmf', listener);
    const uac = await dial('uac-call.xml', '102');
    h.media.off('dtmf', listener);
    expect(uac.code, uac.errors).toBe(0);
    expect((await uas.done).code).toBe(0);
    await h.waitForEnded(before + 1);
    expect(digits).toContain('1');
  });

  it('accepts SIP INFO DTMF and sends the digit on to the callee as RFC 4733', async () => {
    const sent: string[] = [];
    const listener = (e: { digits: string; legId: string }) => sent.push(e.legId + e.digits);
    h.media.on('dtmf-sent', listener);
    const uas = await callee('102', 'uas-answer.xml');
    const before = h.ended.length;
    const uac = await dial('uac-info.xml', '102');
    h.media.off('dtmf-sent', listener);
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
    await h.waitForEnded(before + 1);
    expect(sent).toContain('b5');
  });

  it('lets the callee hang up', async () => {
    const uas = await callee('102', 'uas-bye.xml');
    const before = h.ended.length;
    const uac = await dial('uac-wait-bye.xml', '102');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
    await h.waitForEnded(before + 1);
    expect((await lastCallRecord()).hangup_by).toBe('callee');
  });

  it('holds with music and resumes by re-INVITE', async () => {
    const uas = await callee('102', 'uas-answer.xml');
    const before = h.ended.length;
    const uac = await dial('uac-hold.xml', '102');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
    await h.waitForEnded(before + 1);
    // The engine saw the hold and the resume (SIPp itself checked a=recvonly, then a=sendrecv, in the answers).
    expect(h.holds.slice(-2)).toEqual([
      { side: 'a', held: true },
      { side: 'a', held: false },
    ]);
  });

  it('cancels before the answer (CANCEL, 200, 487)', async () => {
    const uas = await callee('102', 'uas-ring-cancelled.xml');
    const uac = await dial('uac-cancel.xml', '102');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code, 'callee saw the CANCEL').toBe(0);
    expect((await lastCallRecord()).result).toBe('cancelled');
  });

  it('answers busy when the callee is busy', async () => {
    const uas = await callee('102', 'uas-busy.xml');
    const uac = await dial('uac-busy.xml', '102');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
    expect((await lastCallRecord()).result).toBe('busy');
  });

  it('answers 480 for an extension with no registered device', async () => {
    await h.addPhone('103');
    const uac = await dial('uac-unavailable.xml', '103');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await lastCallRecord()).result).toBe('unavailable');
  });
});

describe('transfers', () => {
  it('blind-transfers the caller to another extension by REFER', async () => {
    const transferTarget = await callee('103', 'uas-answer.xml');
    const transferor = await callee('102', 'uas-refer.xml', { target: '103' });
    const before = h.ended.length;
    const uac = await dial('uac-call.xml', '102');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const t = await transferor.done;
    expect(t.code, t.errors || t.output.slice(-1500)).toBe(0);
    expect(t.logs).toContain('transfer to 103: progress SIP/2.0 100 then SIP/2.0 200');
    const c = await transferTarget.done;
    expect(c.code, c.errors).toBe(0);
    await h.waitForEnded(before + 1);
    const { call, result } = h.ended.at(-1)!;
    expect(result).toBe('answered');
    // The caller's audio went on, to the new party, on the same media leg.
    expect(call.lastStats.find((s) => s.legId === 'b')!.sent.packets).toBeGreaterThan(50);
    // The call log: 101–102 ended by 102's transfer, then 101–103 ended by 101's BYE, in one session.
    const log = await sessionLog(call.recordId!);
    expect(log.map((s) => [s.from_number, s.to_number, s.result, s.hangup_by])).toEqual([
      ['101', '102', 'transferred', 'callee'],
      ['101', '103', 'answered', 'caller'],
    ]);
    expect(log.every((s) => s.answered_at && s.ended_at)).toBe(true);
    expect(log[1]!.answered_at!.getTime()).toBeGreaterThanOrEqual(log[0]!.ended_at!.getTime());
    const legsOf = (segment: string) => h.db.selectFrom('call_legs').select(['role', 'result']).where('call_id', '=', segment).execute();
    const first = await legsOf(log[0]!.id);
    expect(first.map((l) => l.role).sort()).toEqual(['callee', 'caller']);
    expect(first.find((l) => l.role === 'callee')!.result).toBe('transferred');
    expect((await legsOf(log[1]!.id)).map((l) => l.role)).toEqual(['transfer_target']);
  });

  it('attended transfer: the transferor joins its caller to the party of its consultation call (REFER with Replaces)', async () => {
    const target = await callee('103', 'uas-answer.xml');
    const transferorPhone = h.phones.get('102') ?? (await h.addPhone('102'));
    // The transferor's consultation call to 103, placed first; SIPp logs the dialog's identifiers.
    const consult = startSipp({ scenario: 'uac-consult.xml', target: h.target, localPort: await freeSipPort(), service: '103', auth: transferorPhone, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    await consult.ready;
    callees.push(consult);
    let dialog: RegExpExecArray | null = null;
    for (let i = 0; i < 100 && !dialog; i++) {
      await new Promise((r) => setTimeout(r, 100));
      dialog = /consultation dialog (\S+);to-tag=(\S+);from-tag=(\S+);/.exec(consult.logsSoFar());
    }
    expect(dialog, 'the consultation call was not answered').not.toBeNull();
    const replaces = encodeURIComponent(`${dialog![1]};to-tag=${dialog![2]};from-tag=${dialog![3]}`);
    const transferor = await callee('102', 'uas-attended-transfer.xml', { target: '103', replaces });
    const before = h.ended.length;
    const uac = await dial('uac-call.xml', '102');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const t = await transferor.done;
    expect(t.code, t.errors || t.output.slice(-1500)).toBe(0);
    expect(t.logs).toContain('progress SIP/2.0 100 then SIP/2.0 200');
    // The consultation dialog was replaced: SIPp got our BYE on it.
    const c = await consult.done;
    expect(c.code, c.errors || c.output.slice(-1500)).toBe(0);
    // The caller's BYE reached the transfer target, through the joined call.
    const done = await target.done;
    expect(done.code, done.errors).toBe(0);
    await h.waitForEnded(before + 2);
    const calls = h.ended.slice(-2).map((e) => e.call);
    const first = calls.find((x) => x.recordId !== null && x.lastStats.length === 2 && x.forkCallIds.length > 0 && x.aCallId !== dialog![1])!;
    const consultation = calls.find((x) => x.aCallId === dialog![1])!;
    // Audio crossed the link between the two bridges both ways: caller → target and target → caller.
    expect(first.lastStats.find((s) => s.legId === 'b')!.received.packets).toBeGreaterThan(50);
    expect(first.lastStats.find((s) => s.legId === 'a')!.sent.packets).toBeGreaterThan(50);
    expect(consultation.lastStats.find((s) => s.legId === 'a')!.received.packets).toBeGreaterThan(50);
    expect(consultation.lastStats.find((s) => s.legId === 'b')!.sent.packets).toBeGreaterThan(50);
    const legs = await h.db.selectFrom('call_legs').select(['role', 'result']).where('call_id', '=', (await sessionLog(first.recordId!))[0]!.id).execute();
    expect(legs.find((l) => l.role === 'callee')!.result).toBe('transferred');
    // The call log: 101–102 ended by 102's transfer, then 101–103 (joined) ended by 101's BYE, in 101's session;
    // the consultation 102–103, in a session of its own, ended by 102's transfer too.
    const log = await sessionLog(first.recordId!);
    expect(log.map((s) => [s.from_number, s.to_number, s.result, s.hangup_by])).toEqual([
      ['101', '102', 'transferred', 'callee'],
      ['101', '103', 'answered', 'caller'],
    ]);
    expect(consultation.recordId).toBe(first.recordId);
    const consultLog = await h.db.selectFrom('calls').select(['from_number', 'to_number', 'result', 'hangup_by']).where('account_id', '=', h.accountId).where('sip_call_id', '=', dialog![1]!).execute();
    expect(consultLog).toEqual([{ from_number: '102', to_number: '103', result: 'transferred', hangup_by: 'caller' }]);
  });

  it('refuses a Replaces that names no dialog, and the call goes on', async () => {
    const transferor = await callee('102', 'uas-attended-transfer-refused.xml', { target: '103', replaces: encodeURIComponent('nonexistent@x;to-tag=1;from-tag=2') });
    const before = h.ended.length;
    // The caller stays until the transferor, still in the call after the 481, hangs up.
    const uac = await dial('uac-wait-bye.xml', '102');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const t = await transferor.done;
    expect(t.code, t.errors || t.output.slice(-1500)).toBe(0);
    expect(t.logs).toContain('Replaces of no dialog refused');
    await h.waitForEnded(before + 1);
    expect(h.ended.at(-1)!.result).toBe('answered');
  });
});

describe('on-demand recording', () => {
  it('starts and stops with *9, announces both, and attaches the recording to the call', async () => {
    const uas = await callee('102', 'uas-answer.xml');
    const before = h.ended.length;
    const digits: string[] = [];
    const listener = (e: { digit: string; legId: string }) => digits.push(e.legId + e.digit);
    h.media.on('dtmf', listener);
    const uac = await dial('uac-record.xml', '102');
    h.media.off('dtmf', listener);
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
    expect(digits).toEqual(['a*', 'a9', 'a*', 'a9']);
    await h.waitForEnded(before + 1);
    const { call } = h.ended.at(-1)!;
    const rows = await h.db.selectFrom('recordings').selectAll().where('call_id', '=', call.recordId!).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.duration_seconds).toBeGreaterThanOrEqual(2);
    const wav = analyseWav(rows[0]!.storage_path, 1000);
    expect(wav.seconds).toBeGreaterThan(2);
    expect(wav.rms).toBeGreaterThan(100);
  });

  it('does nothing on *9 when the account has it disabled', async () => {
    await h.db.updateTable('accounts').set({ on_demand_recording: false }).where('id', '=', h.accountId).execute();
    h.configChanged('account');
    try {
      const uas = await callee('102', 'uas-answer.xml');
      const before = h.ended.length;
      const uac = await dial('uac-record.xml', '102');
      expect(uac.code, uac.errors).toBe(0);
      expect((await uas.done).code).toBe(0);
      await h.waitForEnded(before + 1);
      const { call } = h.ended.at(-1)!;
      expect(await h.db.selectFrom('recordings').select('id').where('call_id', '=', call.recordId!).execute()).toEqual([]);
    } finally {
      await h.db.updateTable('accounts').set({ on_demand_recording: true }).where('id', '=', h.accountId).execute();
      h.configChanged('account');
    }
  });
});
