import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { formatOf, readCsv, readTable, readTableInThread, readXlsx } from '../../app/src/lib/server/users/bulk-edit/read-table.ts';
import { readZipEntries, ZipLimitError } from '../../packages/core/src/users/table-file/zip-reader.ts';
import { craftedZip } from '../support/crafted-zip.ts';

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

describe('XLSX files crafted to be costly', () => {
  const workbook = { name: 'xl/workbook.xml', content: Buffer.from('<workbook><sheets><sheet r:id="rId1"/></sheets></workbook>') };
  /** A sheet that claims 120 bytes and inflates to 60 MB: the kind of file that held the event loop for seconds. */
  const lyingSheet = () => craftedZip([workbook, { name: 'xl/worksheets/sheet1.xml', content: Buffer.alloc(60 * 1024 * 1024, '<row r="1"/>'), claimedSize: 120 }]);

  it('refuses a part whose header lies about its size, inflating no more than the limit allows', () => {
    const result = readTable('xlsx', lyingSheet());
    expect(result).toEqual({ ok: false, error: 'unreadable_file', message: 'the workbook part xl/worksheets/sheet1.xml is compressed more than 100 times: not a users file' });
  });

  it('counts the bytes really inflated against the total, and the entries against their limit', () => {
    // Parts compressed little, 3 MB each: under any ratio, over a 5 MB total.
    const noisy = (seed: number) => Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => 65 + ((i * 7919 + seed * 104729) % 9973) % 26));
    const zip = craftedZip([{ name: 'a.xml', content: noisy(1), claimedSize: 10 }, { name: 'b.xml', content: noisy(2), claimedSize: 10 }]);
    expect(() => readZipEntries(zip, () => true, { maxEntries: 10, maxUnzippedBytes: 5 * 1024 * 1024, maxRatio: 1000 })).toThrow(new ZipLimitError('the workbook unzips to more than 5 MB'));
    const many = craftedZip(Array.from({ length: 1001 }, (_, i) => ({ name: `p${i}.xml`, content: Buffer.from('x') })));
    expect(readTable('xlsx', many)).toEqual({ ok: false, error: 'unreadable_file', message: 'the workbook has 1001 parts, more than the 1000 allowed' });
  });

  it('reads in a thread: the event loop keeps turning, and a read past its time limit is stopped with a clear error', async () => {
    const bytes = lyingSheet();
    let last = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    try {
      expect(await readTableInThread('xlsx', bytes)).toMatchObject({ ok: false, error: 'unreadable_file', message: expect.stringMatching(/compressed more than 100 times/) });
      // A users file the export wrote reads the same in the thread.
      const ok = await readTableInThread('csv', new TextEncoder().encode('User ID,Department\r\n1001,Sales\r\n'));
      expect(ok).toEqual({ ok: true, rows: [['User ID', 'Department'], ['1001', 'Sales']] });
      // 10,000 rows cannot be read in 1 ms: the thread is terminated and the file refused.
      const big = new TextEncoder().encode('User ID,Department\r\n' + 'a,b\r\n'.repeat(9_999));
      expect(await readTableInThread('csv', big, 1)).toEqual({ ok: false, error: 'unreadable_file', message: 'the file took more than 0.001 s to read: not a users file' });
    } finally {
      clearInterval(ticker);
    }
    expect(longestGap).toBeLessThan(500);
  });
});
