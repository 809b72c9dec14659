import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { translator, type MessageKey } from '../../app/src/lib/i18n/index.ts';

/**
 * The audit trail (Admin › More › Audit Trail) reads each change's code in the admin's language; a code
 * without a label shows as itself ("ivr_menu.created"). Every action the code records needs an English and a
 * French label: this test reads the actions out of the sources that record them, so a new one without a
 * label fails here rather than in front of an admin.
 */
const root = path.resolve(import.meta.dirname, '../..');
const SOURCES = ['packages/core/src', 'app/src/lib/server', 'app/src/routes'];

/** Actions built from a template literal, which no scan can read: each expansion, by where it is built. */
const BUILT_ACTIONS = [
  // packages/core/src/ivr/ivr-store.ts saveSettingsPart: `ivr.${name}_updated`
  'ivr.hours_updated',
  'ivr.directory_updated',
  // packages/core/src/sms/sms-campaigns.ts: `sms_campaign.${action}`
  'sms_campaign.pause',
  'sms_campaign.resume',
  'sms_campaign.cancel',
  // app/src/lib/server/call-control.ts: `call.${request.type}`
  'call.hangup',
  'call.transfer',
  'call.start-recording',
  'call.stop-recording',
  // app/src/lib/server/conference-console.ts: `conference.${request.type}`
  'conference.mute',
  'conference.mute-all',
  'conference.lock',
  'conference.remove',
  'conference.dial-out',
];

function* tsFiles(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(full);
    else if (entry.name.endsWith('.ts')) yield full;
  }
}

/** `'target.verb'` literals on the lines of files that record audit events where an action is named. */
function recordedActions(): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of SOURCES) {
    for (const file of tsFiles(path.join(root, dir))) {
      const source = fs.readFileSync(file, 'utf8');
      if (!/recordAudit|audit\(/.test(source)) continue;
      const lines = source.split('\n');
      lines.forEach((line, i) => {
        // `action: …`, `audit('…', …)`, or the line after a `const action =` that breaks there.
        const namesAction = /\baction\b|audit\(/.test(line) || /const action =\s*$/.test(lines[i - 1] ?? '');
        if (!namesAction) return;
        for (const m of line.matchAll(/'([a-z_]+\.[a-z_-]+)'/g)) found.set(m[1]!, path.relative(root, file));
      });
    }
  }
  return found;
}

describe('audit trail labels', () => {
  it('reads real actions out of the sources (the scan finds what it should)', () => {
    const actions = recordedActions();
    // One from a plain `action:` property, one from a conditional, one from setup-wizard's audit() helper.
    expect(actions.get('user.created')).toBeDefined();
    expect(actions.get('call_queue.member_not_accepting')).toBeDefined();
    expect(actions.get('company.setup_completed')).toBeDefined();
    expect(actions.size).toBeGreaterThan(50);
  });

  it('has an English and a French label for every recorded action', () => {
    const actions = [...recordedActions().keys(), ...BUILT_ACTIONS];
    const missing: string[] = [];
    for (const lang of ['en', 'fr'] as const) {
      const t = translator(lang);
      for (const action of actions) {
        const key = `auditAction.${action}` as MessageKey;
        if (t(key) === key) missing.push(`${lang}: ${action}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
