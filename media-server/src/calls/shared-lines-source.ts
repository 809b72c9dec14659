import { sharedLineCallPlan } from '@carillon/core';
import type { Db } from '@carillon/db';
import type { PromptLibrary } from './prompt-library.ts';
import { stockMusicPath } from './stock-music.ts';
import type { SharedLines } from '../apps/shared-line/shared-lines.ts';

/**
 * The shared-line application's lines, read from the database at each call (core's `sharedLineCallPlan`:
 * a few statements, scoped to the account), so that a change made in the app counts for the very next
 * call without a cache to invalidate; prompts from the account's library (the call engine's `PromptLibrary`).
 */
export function sharedLinesSource(db: Db, prompts: PromptLibrary): SharedLines {
  return {
    plan: (accountId, lineExtensionId) => sharedLineCallPlan(db, accountId, lineExtensionId),
    promptFile: (accountId, name) => prompts.file(accountId, name),
    music: stockMusicPath,
  };
}
