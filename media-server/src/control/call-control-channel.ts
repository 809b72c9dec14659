import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import { CALL_EVENTS_CHANNEL, callCommandChannel, readCallCommand, type CallCommand, type CallEvent } from '@carillon/contracts/call-control';
import { CONFIG_CHANGES_CHANNEL, parseConfigChange, type ConfigChange } from '@carillon/contracts/config-changes';
import { CONFERENCE_EVENTS_CHANNEL, conferenceCommandChannel, readConferenceCommand, type ConferenceCommand, type ConferenceEvent } from '@carillon/contracts/conference-control';

/** What the control channel may do to a call; the call engine's calls have it. */
export interface ControlledCall {
  readonly accountId: string;
  hangUpByCommand(): boolean;
  /** Null when done, else why not. */
  setRecordingByCommand(on: boolean): Promise<string | null>;
  /** Null once the target is being called, else why not. */
  transferByCommand(transferee: 'a' | 'b', target: string): Promise<string | null>;
}

export interface ControlTargets {
  /** The live call of this node whose caller used this SIP Call-ID. */
  findCall(callId: string): ControlledCall | null;
  /** Drops what this node cached of an account's configuration. */
  configChanged(change: ConfigChange): void;
  /** A command of a host's console on a conference of this node (absent where the conference area is not enabled: not_found). */
  conferenceCommand?(command: ConferenceCommand): Pick<ConferenceResult, 'outcome' | 'reason' | 'roster'>;
}

type ConferenceResult = Extract<ConferenceEvent, { type: 'command-result' }>;

type CommandResult = Extract<CallEvent, { type: 'command-result' }>;

/**
 * The node's end of the control channel (contracts/call-control.ts): it
 * subscribes to its own command channel and to configuration changes, checks
 * each command against the contract (a bad one is refused with a reason and
 * logged; nothing a peer sends can throw here), acts on the call it names when
 * the call is this node's and of the command's account, and publishes the
 * outcome on the events channel.
 */
export class CallControlChannel {
  private readonly subscriber: Redis;
  private readonly publisher: Redis;
  private readonly nodeId: string;
  private readonly targets: ControlTargets;
  private readonly log: Logger;
  /** Recent command ids: a command published twice is acted on once. */
  private readonly seen = new Set<string>();

  private constructor(o: { subscriber: Redis; publisher: Redis; nodeId: string; targets: ControlTargets; log: Logger }) {
    this.subscriber = o.subscriber;
    this.publisher = o.publisher;
    this.nodeId = o.nodeId;
    this.targets = o.targets;
    this.log = o.log;
  }

  /** `subscriber` becomes a subscriber connection (ioredis): give it a connection of its own. */
  static async start(o: { subscriber: Redis; publisher: Redis; nodeId: string; targets: ControlTargets; log: Logger }): Promise<CallControlChannel> {
    const channel = new CallControlChannel(o);
    const commands = callCommandChannel(o.nodeId);
    const conferenceCommands = conferenceCommandChannel(o.nodeId);
    o.subscriber.on('message', (name: string, message: string) => {
      if (name === commands) void channel.onCommand(message);
      else if (name === conferenceCommands) void channel.onConferenceCommand(message);
      else if (name === CONFIG_CHANGES_CHANNEL) channel.onConfigChange(message);
    });
    await o.subscriber.subscribe(commands, conferenceCommands, CONFIG_CHANGES_CHANNEL);
    o.log.info('control channel listening', { channel: commands });
    return channel;
  }

  async stop(): Promise<void> {
    await this.subscriber.unsubscribe().catch(() => undefined);
  }

  private onConfigChange(message: string): void {
    const change = parseConfigChange(message);
    if (!change) {
      this.log.warn('configuration change ignored: not a valid message', { length: message.length });
      return;
    }
    this.log.debug('configuration changed', change);
    this.targets.configChanged(change);
  }

  async onCommand(message: string): Promise<void> {
    const read = readCallCommand(message);
    if (!read.ok) {
      this.log.warn('call command refused', { reason: read.reason, commandId: read.commandId });
      if (read.commandId && read.accountId && read.callId) {
        await this.publish({ type: 'command-result', commandId: read.commandId, accountId: read.accountId, callId: read.callId, outcome: 'refused', reason: read.reason });
      }
      return;
    }
    const command = read.command;
    if (!this.firstTime(command.commandId)) return;
    let result: Pick<CommandResult, 'outcome' | 'reason'>;
    try {
      result = await this.act(command);
    } catch (err) {
      this.log.error('call command failed', { commandId: command.commandId, type: command.type, error: err });
      result = { outcome: 'failed', reason: 'the command failed on the media server' };
    }
    this.log.info('call command', { commandId: command.commandId, type: command.type, callId: command.callId, by: command.requestedBy.userId, ...result });
    await this.publish({ type: 'command-result', commandId: command.commandId, accountId: command.accountId, callId: command.callId, ...result });
  }

  /** As onCommand, for the hosts' consoles (contracts/conference-control.ts); answers on the conference events channel. */
  async onConferenceCommand(message: string): Promise<void> {
    const read = readConferenceCommand(message);
    if (!read.ok) {
      this.log.warn('conference command refused', { reason: read.reason, commandId: read.commandId });
      if (read.commandId && read.accountId && read.hostExtensionId) {
        await this.publishConference({ type: 'command-result', commandId: read.commandId, accountId: read.accountId, hostExtensionId: read.hostExtensionId, outcome: 'refused', reason: read.reason });
      }
      return;
    }
    const command = read.command;
    if (!this.firstTime(command.commandId)) return;
    let result: Pick<ConferenceResult, 'outcome' | 'reason' | 'roster'>;
    try {
      result = this.targets.conferenceCommand?.(command) ?? { outcome: 'not_found', reason: 'conferences are not available on this node' };
    } catch (err) {
      this.log.error('conference command failed', { commandId: command.commandId, type: command.type, error: err });
      result = { outcome: 'failed', reason: 'the command failed on the media server' };
    }
    if (command.type !== 'roster') this.log.info('conference command', { commandId: command.commandId, type: command.type, host: command.hostExtensionId, by: command.requestedBy.userId, outcome: result.outcome, reason: result.reason });
    await this.publishConference({ type: 'command-result', commandId: command.commandId, accountId: command.accountId, hostExtensionId: command.hostExtensionId, ...result });
  }

  /** Whether a command id is new: a command published twice is acted on once. */
  private firstTime(commandId: string): boolean {
    if (this.seen.has(commandId)) return false;
    this.seen.add(commandId);
    if (this.seen.size > 10_000) this.seen.delete(this.seen.values().next().value!);
    return true;
  }

  private async publishConference(event: ConferenceEvent): Promise<void> {
    await this.publisher.publish(CONFERENCE_EVENTS_CHANNEL, JSON.stringify(event)).catch((err: unknown) => this.log.warn('conference event not published', { error: err }));
  }

  private async act(command: CallCommand): Promise<Pick<CommandResult, 'outcome' | 'reason'>> {
    const call = this.targets.findCall(command.callId);
    // Another account's call is answered as if it did not exist: the command's account is the app's check, repeated here.
    if (!call || call.accountId !== command.accountId) return { outcome: 'not_found', reason: 'the call has ended or is not on this node' };
    switch (command.type) {
      case 'hangup':
        return call.hangUpByCommand() ? { outcome: 'done' } : { outcome: 'not_found', reason: 'the call has ended' };
      case 'start-recording':
      case 'stop-recording': {
        const refused = await call.setRecordingByCommand(command.type === 'start-recording');
        return refused ? { outcome: 'refused', reason: refused } : { outcome: 'done' };
      }
      case 'transfer': {
        // Done once the target rings: the transferee hears hold music, and the other party leaves when the target answers.
        const refused = await call.transferByCommand(command.side, command.target);
        return refused ? { outcome: 'refused', reason: refused } : { outcome: 'done' };
      }
    }
  }

  private async publish(event: CallEvent): Promise<void> {
    await this.publisher.publish(CALL_EVENTS_CHANNEL, JSON.stringify(event)).catch((err: unknown) => this.log.warn('call event not published', { error: err }));
  }
}
