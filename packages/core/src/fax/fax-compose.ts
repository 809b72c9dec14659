import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Db, FaxAttachment } from '@carillon/db';
import { FAX_COVER_TEMPLATES } from '@carillon/domain';
import { faxAttachmentsDirectory, faxDirectory } from './fax-paths.ts';
import { faxCoverSettingsOf, templateFor } from './fax-cover-settings.ts';
import { countPdfPages, detectAttachmentKind } from './attachment-kind.ts';

/** Seed 000 "FaxOut": at most 50 recipients. */
export const MAX_FAX_RECIPIENTS = 50;
export const MAX_FAX_ATTACHMENTS = 10;
/** Scheduling further ahead is more likely a typo in the year than a plan. */
const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3600_000;

/**
 * A fax number as typed ("+33 1 23 45 67 89", "(857) 777-7777") to E.164.
 * Ten digits are a North American number; any other national form needs
 * the + and country code, since the sender's country is not known here.
 */
export function normaliseFaxNumber(input: string): string | null {
  const trimmed = input.trim();
  if (!/^\+?[0-9 ().\-/]+$/.test(trimmed)) return null;
  const digits = trimmed.replace(/[^0-9]/g, '');
  let e164: string;
  if (trimmed.startsWith('+')) e164 = `+${digits}`;
  else if (digits.length === 10) e164 = `+1${digits}`;
  else if (digits.length === 11 && digits.startsWith('1')) e164 = `+${digits}`;
  else return null;
  return /^\+[1-9][0-9]{6,14}$/.test(e164) ? e164 : null;
}

const faxNumber = z.string().transform((v, ctx) => {
  const n = normaliseFaxNumber(v);
  if (!n) {
    ctx.addIssue({ code: 'custom', message: `"${v.slice(0, 40)}" is not a fax number (use the international form, e.g. +33 1 23 45 67 89)` });
    return z.NEVER;
  }
  return n;
});

/** The fields of a fax as composed, before the files. */
export const faxComposeRequest = z.object({
  recipients: z
    .array(faxNumber)
    .min(1, 'add at least one recipient')
    .max(MAX_FAX_RECIPIENTS, `at most ${MAX_FAX_RECIPIENTS} recipients`)
    .transform((list) => [...new Set(list)]),
  /** Left out: as the sender's settings say (a cover page unless their template is "None"). */
  coverPage: z.boolean().optional(),
  /** Left out: the sender's template. */
  coverTemplate: z.enum(FAX_COVER_TEMPLATES).optional(),
  to: z.string().trim().max(200).default(''),
  subject: z.string().trim().max(200).default(''),
  message: z.string().trim().max(4000).default(''),
  resolution: z.enum(['fine', 'standard']).default('fine'),
  sendAt: z.coerce
    .date()
    .nullable()
    .default(null)
    .refine((d) => d === null || d.getTime() > Date.now() - 60_000, 'the scheduled time is in the past')
    .refine((d) => d === null || d.getTime() < Date.now() + MAX_SCHEDULE_AHEAD_MS, 'the scheduled time is more than a year ahead'),
});
export type FaxComposeRequest = z.output<typeof faxComposeRequest>;

export interface FaxUpload {
  name: string;
  mediaType: string;
  data: Uint8Array;
}

export class FaxComposeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaxComposeError';
  }
}

/** A file name safe to store (the original is kept in the row for display). */
function storedName(index: number, name: string): string {
  const ext = path.extname(name).toLowerCase().replace(/[^a-z0-9.]/g, '').slice(0, 8);
  return `${index}${ext}`;
}

/**
 * Stores a composed fax: its row, one row per recipient and the uploaded
 * files under the fax's directory. Returns the fax id; the caller queues it
 * (enqueueFax) once this has returned, so a worker never sees half a fax.
 */
export async function createFax(
  db: Db,
  dataDir: string,
  owner: { accountId: string; userId: string },
  request: FaxComposeRequest,
  uploads: FaxUpload[],
  limits: { maxBytes: number; maxPages: number },
): Promise<string> {
  const maxTotalBytes = limits.maxBytes;
  if (uploads.length === 0) throw new FaxComposeError('attach at least one document');
  if (uploads.length > MAX_FAX_ATTACHMENTS) throw new FaxComposeError(`at most ${MAX_FAX_ATTACHMENTS} attachments`);
  const total = uploads.reduce((sum, u) => sum + u.data.byteLength, 0);
  if (total > maxTotalBytes) {
    throw new FaxComposeError(`the attachments total ${(total / 1048576).toFixed(1)} MB, more than the ${Math.round(maxTotalBytes / 1048576)} MB allowed`);
  }
  const sender = await db
    .selectFrom('users')
    .select(['first_name', 'last_name', 'extension_id'])
    .where('id', '=', owner.userId)
    .where('account_id', '=', owner.accountId)
    .executeTakeFirst();
  if (!sender) throw new FaxComposeError('unknown sender');
  const senderNumber = await db
    .selectFrom('phone_numbers')
    .select('e164')
    .where('account_id', '=', owner.accountId)
    .where('extension_id', '=', sender.extension_id)
    .orderBy('fax_capable', 'desc')
    .orderBy('created_at')
    .executeTakeFirst();

  const cover = await faxCoverSettingsOf(db, owner.accountId, owner.userId);

  const faxId = randomUUID();
  const attachmentsDir = faxAttachmentsDirectory(faxDirectory(dataDir, owner.accountId, faxId));
  await fs.promises.mkdir(attachmentsDir, { recursive: true });
  try {
    const attachments: FaxAttachment[] = [];
    for (const [i, upload] of uploads.entries()) {
      const file = path.join(attachmentsDir, storedName(i, upload.name));
      await fs.promises.writeFile(file, upload.data);
      attachments.push({ name: upload.name.slice(0, 200), path: file, mediaType: upload.mediaType.slice(0, 100), status: 'pending' as const, pages: null, error: null });
    }
    const coverPage = request.coverPage ?? cover.coverTemplate !== 'none';
    const pages = (coverPage ? 1 : 0) + (await countAttachedPdfPages(uploads, attachments));
    if (pages > limits.maxPages) {
      throw new FaxComposeError(`the fax would have ${pages} pages${coverPage ? ', its cover included' : ''}, and at most ${limits.maxPages} are allowed`);
    }
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('faxes')
        .values({
          id: faxId,
          account_id: owner.accountId,
          sender_user_id: owner.userId,
          from_number: senderNumber?.e164 ?? null,
          from_name: `${sender.first_name} ${sender.last_name}`.trim(),
          cover_page: coverPage,
          cover_template: request.coverTemplate ?? templateFor(cover),
          cover_info: JSON.stringify(cover.coverInfo),
          cover_to: request.to,
          cover_subject: request.subject,
          cover_message: request.message,
          resolution: request.resolution,
          attachments: JSON.stringify(attachments),
          scheduled_at: request.sendAt,
        })
        .execute();
      await trx
        .insertInto('fax_recipients')
        .values(request.recipients.map((number, position) => ({ account_id: owner.accountId, fax_id: faxId, position, number })))
        .execute();
    });
  } catch (err) {
    await fs.promises.rm(path.dirname(attachmentsDir), { recursive: true, force: true });
    throw err;
  }
  return faxId;
}

/**
 * Pages of the PDF attachments, counted before the fax is queued so that an
 * oversized fax is refused at once (the render checks again, other formats
 * included). A PDF pdfinfo cannot read counts for nothing here: the render
 * gives its reason.
 */
async function countAttachedPdfPages(uploads: FaxUpload[], stored: FaxAttachment[]): Promise<number> {
  let pages = 0;
  for (const [i, upload] of uploads.entries()) {
    if (detectAttachmentKind(Buffer.from(upload.data.subarray(0, 512)), upload.name) !== 'pdf') continue;
    pages += (await countPdfPages(stored[i]!.path)) ?? 0;
  }
  return pages;
}
