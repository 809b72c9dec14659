import { EXTENSION_INTER_DIGIT_MS, type IvrEffect, type IvrIssue } from '@carillon/domain';
import type { Translate } from '#lib/i18n/index.ts';

/** A validation issue (IVR-15) in words. */
export function issueText(t: Translate, issue: IvrIssue): string {
  const where = issue.menu === null ? t('ivr.issue.settings') : t('ivr.issue.menu', { menu: issue.menu });
  // A custom rule's key is its name, whatever it reads like.
  let key = issue.key === undefined ? '' : issue.rule !== 'custom_rule_target' && /^[0-9]$/.test(issue.key) ? t('ivr.key', { key: issue.key }) : issue.key;
  if (issue.rule === 'company_call_target') key = t(issue.key === 'afterHours' ? 'ivr.single.key.afterHours' : 'ivr.single.key.businessHours');
  const text = t(`ivr.issue.${issue.rule}`, { menu: issue.menu ?? '', where, key, target: issue.target ? `(${issue.target})` : '', menus: (issue.menus ?? []).join(', ') });
  // An absent target leaves a gap: close it.
  return text.replace(/\s+/g, ' ').replace(/ ([.,])/g, '$1');
}

/** What the "try it" simulator shows for one step of the interpreter. */
export function effectText(t: Translate, effect: IvrEffect): string {
  switch (effect.type) {
    case 'play': {
      const prompt = effect.prompt === null ? t('ivr.try.noPrompt') : effect.prompt.mode === 'tts' ? `“${effect.prompt.text}”` : t('ivr.try.audioPrompt', { name: effect.prompt.prompt });
      const line = t('ivr.try.play', { menu: `${effect.menuName} (${effect.menu})`, prompt });
      return effect.reason === 'enter' ? line : `${line} (${t(`ivr.try.reason.${effect.reason}`, { play: effect.play })})`;
    }
    case 'ignored':
      return t('ivr.try.ignored', { digit: effect.digit });
    case 'dialling':
      return t('ivr.try.dialling', { digits: effect.digits, seconds: EXTENSION_INTER_DIGIT_MS / 1000 });
    case 'end': {
      const o = effect.outcome;
      if (o.type === 'connect' || o.type === 'voicemail') return t(`ivr.try.end.${o.type}`, { extension: o.extension });
      if (o.type === 'external') return t('ivr.try.end.external', { number: o.number });
      return t(`ivr.try.end.${o.type}`);
    }
  }
}
