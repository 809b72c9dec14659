import type { Db, SmsTrafficClass } from '@carillon/db';
import type { SecretBox } from '../secrets/secret-box.ts';

/** An account's SMPP carrier as a sender uses it: the password opened, so never log this object. */
export interface SmsCarrierConnection {
  id: string;
  accountId: string;
  trafficClass: SmsTrafficClass;
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType: string;
  bindMode: 'transceiver' | 'transmitter_receiver';
  windowSize: number;
  segmentsPerSecond: number;
  senderSegmentsPerSecond: number;
}

export interface NewSmsCarrier {
  name: string;
  trafficClass: SmsTrafficClass;
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  bindMode?: 'transceiver' | 'transmitter_receiver';
  windowSize?: number;
  segmentsPerSecond?: number;
  senderSegmentsPerSecond?: number;
  isDefault?: boolean;
}

/** Stores a carrier; the password is sealed with the server key. */
export async function createSmsCarrier(db: Db, box: SecretBox, accountId: string, c: NewSmsCarrier): Promise<string> {
  const row = await db
    .insertInto('sms_carriers')
    .values({
      account_id: accountId,
      name: c.name,
      traffic_class: c.trafficClass,
      host: c.host,
      port: c.port,
      system_id: c.systemId,
      password_sealed: box.seal(c.password),
      system_type: c.systemType ?? '',
      bind_mode: c.bindMode ?? 'transceiver',
      window_size: c.windowSize ?? 10,
      segments_per_second: c.segmentsPerSecond ?? 50,
      sender_segments_per_second: c.senderSegmentsPerSecond ?? 10,
      is_default: c.isDefault ?? false,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function smsCarrierConnection(db: Db, box: SecretBox, carrierId: string): Promise<SmsCarrierConnection | undefined> {
  const c = await db.selectFrom('sms_carriers').selectAll().where('id', '=', carrierId).where('enabled', '=', true).executeTakeFirst();
  if (!c) return undefined;
  return {
    id: c.id,
    accountId: c.account_id,
    trafficClass: c.traffic_class,
    host: c.host,
    port: c.port,
    systemId: c.system_id,
    password: box.open(c.password_sealed),
    systemType: c.system_type,
    bindMode: c.bind_mode,
    windowSize: c.window_size,
    segmentsPerSecond: c.segments_per_second,
    senderSegmentsPerSecond: c.sender_segments_per_second,
  };
}

/**
 * The carrier a text from `fromNumber` goes through: the one its phone number
 * names, else the account's default for the traffic class, else its first
 * enabled carrier of that class (P2P and A2P never share a bind).
 */
export async function chooseSmsCarrier(db: Db, accountId: string, fromNumber: string, trafficClass: SmsTrafficClass): Promise<string | undefined> {
  const digits = fromNumber.replace(/^\+/, '');
  const byNumber = await db
    .selectFrom('phone_numbers')
    .innerJoin('sms_carriers', 'sms_carriers.id', 'phone_numbers.sms_carrier_id')
    .select('sms_carriers.id')
    .where('phone_numbers.account_id', '=', accountId)
    .where('sms_carriers.account_id', '=', accountId)
    .where('sms_carriers.enabled', '=', true)
    .where('sms_carriers.traffic_class', '=', trafficClass)
    .where('phone_numbers.e164', 'in', [digits, `+${digits}`])
    .executeTakeFirst();
  if (byNumber) return byNumber.id;
  const fallback = await db
    .selectFrom('sms_carriers')
    .select('id')
    .where('account_id', '=', accountId)
    .where('enabled', '=', true)
    .where('traffic_class', '=', trafficClass)
    .orderBy('is_default', 'desc')
    .orderBy('created_at')
    .executeTakeFirst();
  return fallback?.id;
}

/** Every enabled carrier, of every account: the workers bind them all to receive texts. */
export async function enabledSmsCarrierIds(db: Db): Promise<string[]> {
  return (await db.selectFrom('sms_carriers').select('id').where('enabled', '=', true).orderBy('created_at').execute()).map((r) => r.id);
}
