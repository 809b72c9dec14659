import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretBox } from '@carillon/core';
import { createJobProducer, createRedisConnection, enqueueSmsSend } from '@carillon/core/jobs';
import { createSmsCarrier, queueOutboundSms } from '@carillon/core/sms';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, startTestDatabase, uniquePrefix, waitFor, type Spawned } from './support.ts';
import { seedAccount } from './recording-export-support.ts';
import { startTestSmsc, type TestSmsc } from './test-smsc.ts';

/**
 * The workers service as it runs: a carrier configured in the database is
 * bound at start (texts are received before any is sent), the sms-send queue
 * reaches the SMSC, and SIGTERM unbinds and exits 0. The carrier's password
 * is in no log line.
 */
const key = randomBytes(32);
const prefix = uniquePrefix();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-sms-service-'));
const connection = createRedisConnection(REDIS_URL);
let database: Awaited<ReturnType<typeof startTestDatabase>>;
let smsc: TestSmsc;
let worker: Spawned | undefined;

beforeAll(async () => {
  database = await startTestDatabase();
  smsc = await startTestSmsc({ systemId: 'service', password: 'service-secret-pw' });
}, 120_000);

afterAll(async () => {
  killIfRunning(worker);
  await smsc?.close();
  await connection.quit();
  await deletePrefix(prefix);
  await database?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('SMS in the workers service', () => {
  it('binds configured carriers at start, receives and sends texts, and unbinds on SIGTERM', async () => {
    const db = database.db;
    const account = await seedAccount(db, 'Service Texts');
    // The business number is the admin's direct number: texts to it are theirs.
    await db.insertInto('phone_numbers').values({ account_id: account.accountId, e164: '+14155550100', type: 'direct', extension_id: account.adminExtensionId }).execute();
    await createSmsCarrier(db, secretBox(key), account.accountId, { name: 'SMSC', trafficClass: 'p2p', host: '127.0.0.1', port: smsc.port, systemId: 'service', password: 'service-secret-pw' });
    worker = spawnWorkers(prefix, { DATABASE_URL: database.url, DATA_DIR: dataDir, SECRET_KEY: key.toString('base64'), LOG_LEVEL: 'debug' });
    await worker.waitForOutput(/"workers started"/, 60_000);
    await smsc.waitForBinds(1);

    expect(await smsc.sendInbound('+16465550001', '+14155550100', 'Hello from a customer')).toEqual([0]);
    const inbound = await db.selectFrom('sms_messages').select(['body', 'status', 'user_id']).where('account_id', '=', account.accountId).where('direction', '=', 'inbound').execute();
    expect(inbound).toEqual([{ body: 'Hello from a customer', status: 'received', user_id: account.adminUserId }]);

    const { messageId } = await queueOutboundSms(db, { accountId: account.accountId, userId: null, from: '+14155550100', to: '+16465550001', body: 'Thanks, see you soon', trafficClass: 'p2p', idempotencyKey: 'service-1' });
    const queue = createJobProducer(connection, prefix).queue('sms-send');
    await enqueueSmsSend(queue, { accountId: account.accountId, messageId });
    await queue.close();
    await waitFor(async () => (await db.selectFrom('sms_messages').select('status').where('id', '=', messageId).executeTakeFirstOrThrow()).status === 'delivered', 60_000, 'the reply to be delivered');
    expect(smsc.received.filter((r) => r.text === 'Thanks, see you soon')).toHaveLength(1);

    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit.code).toBe(0);
    expect(smsc.unbinds).toBe(1);
    expect(worker.stdout() + worker.stderr()).not.toContain('service-secret-pw');
  }, 180_000);
});
