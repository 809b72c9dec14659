import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { formatOf, readCsv, readTable, readXlsx } from '../../app/src/lib/server/users/bulk-edit/read-table.ts';

/** The readers behind bulk edit: what spreadsheets write that the project's own export does not. */
function zip(parts: Record<string, string>): Promise<Uint8Array> {
  const z = new yazl.ZipFile();
  for (const [name, text] of Object.entries(parts)) z.addBuffer(Buffer.from(text, 'utf8'), name);
  z.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    z.outputStream.on('error', reject);
  });
}

describe('CSV', () => {
  it('reads quoted separators, doubled quotes and line breaks, a BOM, semicolons, and removes the export\'s formula guard', () => {
    expect(readCsv('\ufeffFirst name,Department\r\n"Smith, Jr","say ""hi""\nthere"\r\nBob,\'=SUM(A1)\r\n')).toEqual([
      ['First name', 'Department'],
      ['Smith, Jr', 'say "hi"\nthere'],
      ['Bob', '=SUM(A1)'],
    ]);
    expect(readCsv('Prénom;Département\nÉlodie;Ventes, Export\n')).toEqual([
      ['Prénom', 'Département'],
      ['Élodie', 'Ventes, Export'],
    ]);
    const unclosed = readTable('csv', new TextEncoder().encode('User ID,Department\nx,"open'));
    expect(unclosed).toMatchObject({ ok: false, error: 'unreadable_file' });
  });
});

describe('XLSX', () => {
  it('reads the first sheet through the workbook relationships, with shared strings (rich text runs), inline strings, numbers and gaps', async () => {
    const bytes = await zip({
      'xl/workbook.xml': '<workbook xmlns:r="r"><sheets><sheet name="Users" sheetId="1" r:id="rId7"/></sheets></workbook>',
      'xl/_rels/workbook.xml.rels': '<Relationships><Relationship Id="rId7" Type="worksheet" Target="worksheets/users.xml"/></Relationships>',
      'xl/sharedStrings.xml':
        '<sst><si><t>User ID</t></si><si><t>Extension</t></si><si><r><t>Ven</t></r><r><rPr/><t xml:space="preserve">tes &amp; co</t></r><rPh><t>x</t></rPh></si></sst>',
      'xl/worksheets/users.xml':
        '<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>' +
        '<row r="3"><c r="A3" t="inlineStr"><is><t>abc</t></is></c><c r="B3" t="s"><v>2</v></c><c r="C3"><v>201</v></c></row></sheetData></worksheet>',
    });
    expect(formatOf('whatever.csv', bytes)).toBe('xlsx');
    expect(readXlsx(bytes)).toEqual([['User ID', '', 'Extension'], [], ['abc', 'Ventes & co', '201']]);
  });

  it('refuses a ZIP without a worksheet', async () => {
    const bytes = await zip({ 'hello.txt': 'hi' });
    expect(readTable('xlsx', bytes)).toMatchObject({ ok: false, error: 'unreadable_file' });
  });
});
