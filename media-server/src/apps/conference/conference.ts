import type { Logger } from '@carillon/config';
import { ACCESS_CODE_ATTEMPTS, commandAllowed, commandsOf, CONFERENCE_COMMANDS, type ConferenceRole, type ConferenceSettings } from '@carillon/domain';
import { CallEndedError, RoomFullError, type BridgeOutcome, type CallApp, type CallHandle, type PlaySource } from '../call-handle.ts';
import { OnDemandRecording, type RecordedCall, type RecordingRecords } from '../recording/on-demand-recording.ts';
import type { ConferenceAccess } from './conference-access.ts';
import { CONFERENCE_TEXTS, roomRoleOf, type ConferenceTexts } from './conference-texts.ts';
import { MemberVoice, ROOM_ONLY, type Conference, type ConferenceMember, type Conferences } from './conferences.ts';

/** Longest entry keyed for a code (codes are 6 digits; a longer entry is simply wrong). */
const MAX_CODE_DIGITS = 12;
const CODE_TIMEOUT_MS = 10_000;
/** After `*`, the wait for the command's key. */
const COMMAND_KEY_TIMEOUT_MS = 5_000;
/** A member in the room waits this long for a key before looking again (the call's end rejects the wait at once). */
const IDLE_KEY_WAIT_MS = 3_600_000;
/** Longest recorded name. */
const NAME_SECONDS = 5;

export interface ConferenceAppDeps {
  access: ConferenceAccess;
  conferences: Conferences;
  /** The music participants hear until the host arrives (a WAV file). */
  music: string;
  /** Where the host's `*9` recordings go: as two-party `*9` recordings (the call log's recordings, DATA_DIR/recordings). */
  recordings: { records: RecordingRecords; dir: string; log: Logger };
}

/**
 * The audio conference bridge by phone (issue 16; inventory 1 §5.1–5.3): the account's bridge
 * number asks for an access code (ended by `#`); the code decides whose conference and the role
 * (host or participant), three wrong codes end the call with an announcement. Where the host
 * announces names, the caller records theirs, which the others hear as they join. The member joins the
 * host's room (a mixer room, CallHandle.joinRoom); without "join before host", participants hear
 * music, and are not heard, until the host arrives. In the room, `*` and a key is a command
 * (§5.3), each refused to a participant unless the seed gives it to them. The host's `*3` ends
 * the conference for everyone; a participant's leaves it. The host's `*9` records the room's mix.
 */
export function conferenceApp(deps: ConferenceAppDeps): CallApp {
  return async (call, destination) => {
    if (destination.kind !== 'conference') return call.reject(480, 'Conferencing Not Available');
    await call.answer();
    const texts = CONFERENCE_TEXTS[call.language];
    const entry = await accessCode(call, deps.access, texts);
    if (!entry) return goodbye(call, texts.tooManyAttempts);
    const conference = deps.conferences.open(call.accountId, entry.hostExtensionId, entry.settings);
    if (conference.refusal(entry.role) === 'locked') return goodbye(call, texts.locked);
    const name = entry.settings.announceNames ? await recordName(call, texts) : null;
    await attend(call, conference, entry.role, deps, texts, name ? { joining: [{ file: name }, { tts: texts.hasJoined }], leaving: [{ file: name }, { tts: texts.hasLeft }] } : null);
  };
}

/** The caller's access code, up to three tries; null when they are used up (or the caller is past the limit across calls). */
async function accessCode(call: CallHandle, access: ConferenceAccess, texts: ConferenceTexts): Promise<{ hostExtensionId: string; role: ConferenceRole; settings: ConferenceSettings } | null> {
  for (let attempt = 0; attempt < ACCESS_CODE_ATTEMPTS; attempt++) {
    const { digits } = await call.collect({ prompt: { tts: attempt === 0 ? texts.enterCode : `${texts.wrongCode} ${texts.enterCode}` }, maxDigits: MAX_CODE_DIGITS, timeoutMs: CODE_TIMEOUT_MS, terminators: '#' });
    const check = await access.tryCode(call.accountId, call.caller.number ?? 'anonymous', digits);
    if (check.kind === 'found') return check;
    if (check.kind === 'limited') return null;
  }
  return null;
}

/**
 * The caller's name, when the host announces names: recorded after a beep, ended by `#` or after
 * NAME_SECONDS. The recording is the call's (deleted when the call is over); the others hear it as
 * the member joins. Null when nothing was recorded.
 */
async function recordName(call: CallHandle, texts: ConferenceTexts): Promise<string | null> {
  await call.play({ tts: texts.sayName });
  const name = await call.record({ maxSeconds: NAME_SECONDS, terminators: '#', beep: true });
  return name.durationMs > 0 ? name.path : null;
}

async function goodbye(call: CallHandle, text: string): Promise<void> {
  await call.play({ tts: text });
  await call.hangup();
}

/** The member's time in the conference: joined, its commands, then out (and the call ends). */
async function attend(call: CallHandle, conference: Conference, role: ConferenceRole, deps: ConferenceAppDeps, texts: ConferenceTexts, name: { joining: PlaySource[]; leaving: PlaySource[] } | null): Promise<void> {
  const leave = new AbortController();
  const voice = new MemberVoice(call, deps.music);
  const room = { accountId: call.accountId, roomId: `conference:${conference.hostExtensionId}` };
  const member: ConferenceMember = {
    role,
    voice,
    dialOut: (extension) => dialIn(call, conference, room, extension, leave.signal),
    who: { number: call.caller.number, name: call.caller.name },
    selfMuted: role !== 'host' && conference.mode !== 'open',
    applyMute: (muted) => call.setRoomMute(muted),
    end: () => leave.abort(),
    ...(name ? { exitAnnouncement: name.leaving } : {}),
  };
  let inRoom = false;
  // The keypad from the moment the member is in the room.
  let commands: Promise<void> = Promise.resolve();
  const joined = call.joinRoom(room, roomRoleOf(role), {
    leave: leave.signal,
    muted: conference.mutedNow(member),
    onJoined: () => {
      inRoom = true;
      const waiting = role !== 'host' && conference.waitingForHost;
      conference.joined(member, name?.joining ?? []);
      if (waiting) {
        void voice.say({ tts: texts.waitingForHost });
        voice.startMusic();
      } else {
        // The host may have arrived (or the mode changed) while this member was on its way in.
        void call.setRoomMute(conference.mutedNow(member)).catch(() => undefined);
      }
      commands = keypad(call, conference, member, deps, texts, leave).catch((err: unknown) => {
        if (!(err instanceof CallEndedError)) throw err;
      });
    },
  });
  try {
    await joined;
  } catch (err) {
    if (err instanceof RoomFullError) return goodbye(call, texts.full);
    throw err;
  } finally {
    leave.abort();
    if (inRoom) await conference.left(member);
    await stopRecordingOf(conference, member, texts);
  }
  // Out of the room: the host ended it, the member left with *3, or hung up. The call ends (the keypad's wait with it).
  if (!call.signal.aborted) await call.hangup();
  await commands;
}

/**
 * The host's console calls an extension in (issue 16): a leg of this member's call (CallHandle.dialOut)
 * whose party joins the room as a participant, muted as the conference says (listen-only mode), and
 * appears on the console. Removing it from the console, or this member's call ending, ends the leg (BYE).
 */
async function dialIn(call: CallHandle, conference: Conference, room: { accountId: string; roomId: string }, extension: { id: string; number: string }, placerLeft: AbortSignal): Promise<void> {
  const hangup = new AbortController();
  const stop = AbortSignal.any([hangup.signal, placerLeft]);
  let party: { setMute(muted: boolean): Promise<void> } | null = null;
  const member: ConferenceMember = {
    role: 'participant',
    voice: ROOM_ONLY,
    who: { number: extension.number, name: null, dialledOut: true },
    selfMuted: false,
    applyMute: (muted) => party?.setMute(muted) ?? Promise.resolve(),
    end: () => hangup.abort(),
  };
  let outcome: BridgeOutcome['outcome'] = 'failed';
  try {
    ({ outcome } = await call.dialOut({ kind: 'extension', accountId: call.accountId, extensionId: extension.id, extensionNumber: extension.number, direction: 'internal' }, room, 'speaker', {
      hangup: stop,
      onJoined: (joined) => {
        party = joined;
        conference.joined(member);
        void joined.setMute(conference.mutedNow(member)).catch(() => undefined);
      },
    }));
  } catch {
    // The placing call ended, the room is full, or the extension cannot be rung: nobody joined.
  } finally {
    await conference.left(member);
  }
  // Never joined: the console says why (an answered party that left is told as a member leaving).
  if (party === null && outcome !== 'answered') conference.dialOutFailed(extension.number, outcome);
}

/** `*` then a key, while the member is in the room (§5.3). */
async function keypad(call: CallHandle, conference: Conference, member: ConferenceMember, deps: ConferenceAppDeps, texts: ConferenceTexts, leave: AbortController): Promise<void> {
  while (!leave.signal.aborted) {
    const star = await call.collect({ maxDigits: 1, timeoutMs: IDLE_KEY_WAIT_MS });
    if (leave.signal.aborted) return;
    if (star.digits !== '*') continue;
    const key = await call.collect({ maxDigits: 1, timeoutMs: COMMAND_KEY_TIMEOUT_MS });
    if (leave.signal.aborted) return;
    const command = CONFERENCE_COMMANDS[key.digits];
    if (!command) continue;
    if (!commandAllowed(member.role, command)) {
      void member.voice.say({ tts: texts.notAllowed });
      continue;
    }
    switch (command) {
      case 'count':
        void member.voice.say({ tts: texts.count(conference.members.size) });
        break;
      case 'leave':
        if (member.role === 'host') conference.end();
        else leave.abort();
        return;
      case 'menu':
        void member.voice.say({ tts: texts.menu(commandsOf(member.role)) });
        break;
      case 'listening_mode':
        void member.voice.say({ tts: texts.mode(conference.cycleListeningMode()) });
        break;
      case 'mute': {
        const muted = conference.toggleMute(member);
        void member.voice.say({ tts: muted === null ? texts.cannotUnmute : texts.muted(muted) });
        break;
      }
      case 'lock':
        void member.voice.say({ tts: texts.lock(conference.toggleLock()) });
        break;
      case 'tones':
        void member.voice.say({ tts: texts.tones(conference.cycleTones()) });
        break;
      case 'record':
        void toggleRecording(call, conference, member, deps, texts).catch((err: unknown) => deps.recordings.log.error('conference recording failed', { error: err }));
        break;
    }
  }
}

/**
 * The host's `*9` (§5.3): starts or stops a recording of the room's mix, so every talker is in it,
 * the host too (CallHandle.startRoomRecording). It is stored as a two-party `*9` recording is
 * (apps/recording/on-demand-recording.ts: the same folder, a recording of the host's call in the call
 * log, listed and downloaded with it, bounded by the WAV size limit), and every member hears it start
 * and stop. It belongs to the call of the host who started it: it stops as that call leaves the room.
 */
async function toggleRecording(call: CallHandle, conference: Conference, member: ConferenceMember, deps: ConferenceAppDeps, texts: ConferenceTexts): Promise<void> {
  let current = conference.recording;
  if (!current) {
    const control = new OnDemandRecording({ call: roomRecordedCall(call, conference, texts), records: deps.recordings.records, recordingsDir: deps.recordings.dir, log: deps.recordings.log });
    current = { by: member, control };
    conference.recording = current;
  }
  await current.control.toggle('a');
}

/** What the `*9` recording sees of the host's call: the room's recorder, and the whole room for its announcements. */
function roomRecordedCall(call: CallHandle, conference: Conference, texts: ConferenceTexts): RecordedCall {
  return {
    accountId: call.accountId,
    recordId: () => call.id,
    unavailable: () => (call.signal.aborted ? 'not-answered' : null),
    extensionOf: () => call.caller.extensionId,
    // The host's own command (§5.3), not the account's switch for recording two-party calls.
    settings: () => Promise.resolve({ enabled: true, language: call.language }),
    startRecorder: (file) => call.startRoomRecording(file),
    stopRecorder: () => call.stopRoomRecording(),
    announce: (prompt) => {
      conference.sayToAll({ tts: texts.recording(prompt === 'recording-started') });
      return Promise.resolve();
    },
    // The console does not show the recording yet.
    changed: () => undefined,
  };
}

/** The member's call is out of the room: a recording it started is stored, and the others told it stopped. */
async function stopRecordingOf(conference: Conference, member: ConferenceMember, texts: ConferenceTexts): Promise<void> {
  const current = conference.recording;
  if (current?.by !== member) return;
  conference.recording = null;
  const wasOn = current.control.active;
  await current.control.close();
  if (wasOn && conference.phase !== 'ended') conference.sayToAll({ tts: texts.recording(false) });
}
