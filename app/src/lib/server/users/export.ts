import { z } from 'zod';
import yazl from 'yazl';
import type { AuthenticatedSession } from '@carillon/core';
import type { Db } from '@carillon/db';
import { listUsersPage, usersListQuery, type UsersListRow } from './list.ts';

/** The export takes the list's search, filters and sort; it holds every matching user, not a page. */
export const usersExportQuery = usersListQuery
  .omit({ limit: true, offset: true })
  .extend({ format: z.enum(['csv', 'xlsx']).default('csv') })
  .strict();
export type UsersExportQuery = z.output<typeof usersExportQuery>;

const PAGE = 200;

/** Every user the list would show, page after page, in the list's order. */
export async function exportedUsers(db: Db, auth: AuthenticatedSession, q: UsersExportQuery): Promise<UsersListRow[]> {
  const { format: _format, ...filters } = q;
  const rows: UsersListRow[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await listUsersPage(db, auth, { ...filters, limit: PAGE, offset });
    rows.push(...page.items);
    if (page.items.length < PAGE || rows.length >= page.total) return rows;
  }
}

/** "User ID" lets the same file, edited, come back through bulk edit (users/bulk-edit) and name each user even when the e-mail changes. */
export const USER_EXPORT_COLUMNS = ['First name', 'Last name', 'E-mail', 'Extension', 'Status', 'Role', 'Department', 'Site', 'Numbers', 'User ID'] as const;

const cellsOf = (u: UsersListRow): string[] => [u.firstName, u.lastName ?? '', u.email ?? '', u.fullExtension, u.status, u.roleName, u.department ?? '', u.siteName, u.numbers.join(' '), u.id];

export function usersCsv(rows: UsersListRow[]): string {
  const cell = (v: string) => {
    // A value starting like a formula must not run in a spreadsheet.
    const s = /^[=+\-@]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [USER_EXPORT_COLUMNS.join(','), ...rows.map((u) => cellsOf(u).map(cell).join(','))].join('\r\n') + '\r\n';
}

const xml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/**
 * The same rows as an Excel workbook (Office Open XML): one sheet of inline strings, the five parts
 * a spreadsheet needs and nothing else. Inline strings keep numbers such as extensions and E.164
 * numbers as typed (no leading zero or "+" lost to number formatting).
 */
export function usersXlsx(rows: UsersListRow[]): Promise<Buffer> {
  const row = (cells: readonly string[], r: number) =>
    `<row r="${r}">${cells.map((c) => `<c t="inlineStr"><is><t xml:space="preserve">${xml(c)}</t></is></c>`).join('')}</row>`;
  const sheet =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' +
    [row(USER_EXPORT_COLUMNS, 1), ...rows.map((u, i) => row(cellsOf(u), i + 2))].join('') +
    '</sheetData></worksheet>';
  const parts: Record<string, string> = {
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    'xl/workbook.xml':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
      '<sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>',
    'xl/_rels/workbook.xml.rels':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    'xl/worksheets/sheet1.xml': sheet,
  };
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(parts)) zip.addBuffer(Buffer.from(text, 'utf8'), name);
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
