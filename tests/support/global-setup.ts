import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startPrivateRedis, type PrivateRedis } from '../../scripts/lib/private-redis.ts';

/**
 * Tests use the machine's Redis when REDIS_URL says so (scripts/test.sh sets it
 * when 127.0.0.1:6379 answers); otherwise one private redis-server serves the run.
 */
let redis: PrivateRedis | null = null;

export async function setup(project: TestProject) {
  if (!process.env.REDIS_URL) {
    redis = await startPrivateRedis(null);
    process.env.REDIS_URL = redis.url;
  }
  project.provide('redisUrl', process.env.REDIS_URL);
  fs.mkdirSync(path.join(os.tmpdir(), 'carillon-tests'), { recursive: true });
}

export async function teardown() {
  await redis?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
