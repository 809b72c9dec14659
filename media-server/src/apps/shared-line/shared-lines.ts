import type { MusicTrack, SharedLineSettings } from '@carillon/domain';

/**
 * What the shared-line application needs of storage (a port that calls/ implements over @carillon/core):
 * a line's settings and devices, read at each call so that a change made in the app counts for the very
 * next one, and the audio files its settings name.
 */
export interface SharedLines {
  /** Null when the extension is not a shared line of the account. */
  plan(accountId: string, lineExtensionId: string): Promise<SharedLinePlan | null>;
  /** A prompt of the account's prompts library by name (PR-01), or null when it is not there. */
  promptFile(accountId: string, name: string): Promise<string | null>;
  /** The file of an X-02 stock track (a custom upload plays the first track: uploads are not read here yet). */
  music(track: MusicTrack): string;
}

export interface SharedLinePlan {
  extensionId: string;
  number: string;
  name: string | null;
  settings: SharedLineSettings;
  /** The account's time zone: the line's hours are read on its wall clock. */
  timeZone: string;
  /** The line's devices in order, each with the extension it registers under. */
  devices: readonly { deviceId: string; extensionId: string; extensionNumber: string }[];
  /** SL-09: where messages are left (the line's own mailbox, or the recipient's); null when the recipient is gone. */
  mailbox: { extensionId: string; extensionNumber: string } | null;
}
