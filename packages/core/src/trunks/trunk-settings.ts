import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '@carillon/db';
import { diffFields, recordAudit, type AuditActor } from '../audit/record-audit.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';

/** The account's SIP trunk to its carrier (issue "SIP edge": host, port, transport, credentials, number format). */
export const trunkInput = z.object({
  name: z.string().trim().min(1, 'required').max(80, 'too_long'),
  host: z
    .string()
    .trim()
    .min(1, 'required')
    .max(253, 'too_long')
    .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/, 'invalid_host'),
  port: z.coerce.number().int().min(1, 'invalid_port').max(65535, 'invalid_port'),
  transport: z.enum(['udp', 'tcp', 'tls']),
  username: z
    .string()
    .trim()
    .max(120, 'too_long')
    .transform((v) => v || null),
  /** Empty keeps the stored password; a value replaces it. */
  password: z.string().max(200, 'too_long').optional(),
  clearPassword: z.boolean().optional(),
  numberFormat: z.enum(['e164', 'e164_no_plus', 'national']),
  inboundAddresses: z
    .array(z.string().trim().regex(/^[0-9a-fA-F:.]+$/, 'invalid_address'))
    .max(20)
    .default([]),
  enabled: z.boolean().default(true),
});
export type TrunkInput = z.input<typeof trunkInput>;

/**
 * The trunk with what forwarding to users' outside numbers needs (issue 13, unreleased area
 * 'answering_rules': the app takes it only where the area is enabled): whether forwarded calls show
 * the original caller's number (true) or the user's (false). Absent keeps what is stored.
 */
export const trunkForwardingInput = trunkInput.extend({ forwardCallerId: z.boolean().optional() });

export interface TrunkView {
  id: string;
  name: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  username: string | null;
  hasPassword: boolean;
  numberFormat: 'e164' | 'e164_no_plus' | 'national';
  inboundAddresses: string[];
  enabled: boolean;
  forwardCallerId: boolean;
}

export async function getTrunk(db: Kysely<Database>, accountId: string): Promise<TrunkView | null> {
  const t = await db.selectFrom('sip_trunks').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  if (!t) return null;
  return {
    id: t.id,
    name: t.name,
    host: t.host,
    port: t.port,
    transport: t.transport,
    username: t.username,
    hasPassword: Boolean(t.password_sealed),
    numberFormat: t.number_format,
    inboundAddresses: (typeof t.inbound_addresses === 'string' ? JSON.parse(t.inbound_addresses) : t.inbound_addresses) as string[],
    enabled: t.enabled,
    forwardCallerId: t.forward_caller_id,
  };
}

export async function saveTrunk(
  db: Kysely<Database>,
  box: SecretBox,
  accountId: string,
  actor: AuditActor,
  input: z.output<typeof trunkForwardingInput>,
): Promise<TrunkView> {
  await db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('sip_trunks').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    const row = {
      name: input.name,
      host: input.host,
      port: input.port,
      transport: input.transport,
      username: input.username,
      number_format: input.numberFormat,
      inbound_addresses: JSON.stringify(input.inboundAddresses),
      enabled: input.enabled,
      ...(input.forwardCallerId !== undefined ? { forward_caller_id: input.forwardCallerId } : {}),
      ...(input.clearPassword ? { password_sealed: null } : input.password ? { password_sealed: box.seal(input.password) } : {}),
    };
    // The audit shows that the password changed, never the password.
    const passwordChanged = input.clearPassword || Boolean(input.password);
    const { password_sealed: _sealed, ...visible } = row as typeof row & { password_sealed?: string | null };
    const shown = { ...visible, inbound_addresses: input.inboundAddresses };
    if (before) {
      await trx.updateTable('sip_trunks').set(row).where('account_id', '=', accountId).execute();
      const diff = diffFields(before as unknown as Record<string, unknown>, shown);
      if (diff || passwordChanged) {
        await recordAudit(trx, actor, {
          accountId,
          action: 'trunk.updated',
          targetType: 'sip_trunk',
          targetId: before.id,
          before: diff?.before ?? {},
          after: { ...(diff?.after ?? {}), ...(passwordChanged ? { passwordChanged: true } : {}) },
        });
      }
    } else {
      const created = await trx.insertInto('sip_trunks').values({ account_id: accountId, ...row }).returning('id').executeTakeFirstOrThrow();
      await recordAudit(trx, actor, { accountId, action: 'trunk.created', targetType: 'sip_trunk', targetId: created.id, after: { ...shown, passwordSet: passwordChanged } });
    }
  });
  await announceConfigChange(accountId, 'trunks');
  return (await getTrunk(db, accountId))!;
}
