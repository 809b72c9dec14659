import path from 'node:path';

/** Everything of one fax: its uploads (`attachments/`), the rendered fax.tif and fax.pdf. The app writes the uploads here too. */
export function faxDirectory(dataDir: string, accountId: string, faxId: string): string {
  return path.join(dataDir, 'faxes', accountId, faxId);
}

export const faxTiffPath = (faxDir: string) => path.join(faxDir, 'fax.tif');
export const faxPdfPath = (faxDir: string) => path.join(faxDir, 'fax.pdf');
export const faxAttachmentsDirectory = (faxDir: string) => path.join(faxDir, 'attachments');
/** Scratch files of one run; per job so that two runs never share them. */
export const faxWorkDirectory = (faxDir: string, runId: string) => path.join(faxDir, `work-${runId.replace(/[^A-Za-z0-9_-]/g, '_')}`);

/** A received fax in an extension's Messages: named after the delivery, so a retried delivery writes the same file. */
export function faxInboxPdfPath(dataDir: string, accountId: string, recipientId: string): string {
  return path.join(dataDir, 'fax-inbox', accountId, `${recipientId}.pdf`);
}
