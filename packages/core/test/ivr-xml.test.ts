import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportIvrXml, importIvrXml, IVR_SAMPLES, parseXml, XmlParseError } from '@carillon/core/ivr';
import { validateIvr, type CompanyRuleInput, type IvrConfig } from '@carillon/domain';

const XML_DIR = new URL('../src/ivr/xml/', import.meta.url);
const read = (name: string) => fs.readFileSync(new URL(name, XML_DIR), 'utf8');

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<ivr><settings mode="multi"/><menu number="1001" name="&lol9;" language="en"/></ivr>`;

describe('safe XML parser', () => {
  it('reads elements, attributes, text, CDATA, comments and the predefined entities', () => {
    const root = parseXml('<?xml version="1.0"?>\n<!-- c --><a x="1 &amp; 2">t&lt;<![CDATA[<raw>]]><b y=\'&#65;&#x42;\'/></a>');
    expect(root).toMatchObject({ name: 'a', attrs: { x: '1 & 2' }, text: 't<<raw>', children: [{ name: 'b', attrs: { y: 'AB' }, line: 2 }] });
  });

  it.each([
    ['a DOCTYPE (billion laughs)', BILLION_LAUGHS, /document type declarations .* not accepted/],
    ['an external entity', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', /not accepted/],
    ['an undefined entity', '<a>&e;</a>', /unknown entity &e;/],
    ['a tag closed by another', '<a><b></a></b>', /<\/a> closes <b>/],
    ['an unclosed element', '<a><b/>', /<a> is never closed/],
    ['two roots', '<a/><b/>', /second root/],
    ['an attribute given twice', '<a x="1" x="2"/>', /twice/],
    ['deep nesting', '<a>'.repeat(40) + '</a>'.repeat(40), /nested deeper/],
    ['binary garbage', '\u0000\u0001PK\u0003\u0004', /text outside the root element/],
    ['nothing', '', /no root element/],
  ])('refuses %s with a clear message', (_name, xml, message) => {
    expect(() => parseXml(xml)).toThrow(XmlParseError);
    expect(() => parseXml(xml)).toThrow(message);
  });

  it('refuses a file over the size limit before reading it', () => {
    expect(() => parseXml(`<a>${'x'.repeat(2 * 1024 * 1024)}</a>`)).toThrow(/larger than/);
  });
});

describe('IVR XML import and export (IVR-23)', () => {
  it('export then import gives the same configuration (deep equality), for both samples', () => {
    for (const config of Object.values(IVR_SAMPLES)) {
      const back = importIvrXml(exportIvrXml(config));
      expect(back.problems).toEqual([]);
      expect(back.config).toEqual(config);
    }
  });

  it('round-trips text that needs escaping, audio prompts and per-menu generic keys', () => {
    const config: IvrConfig = structuredClone(IVR_SAMPLES['multi-level']);
    config.menus[0]!.prompt = { mode: 'audio', prompt: 'Accueil <nuit> & "week-end"' };
    config.menus[1]!.prompt = { mode: 'tts', text: "L'accueil, c'est ici. Merci d'avoir appelé" };
    config.settings.zeroDialing = { type: 'extension', extension: '107' };
    expect(importIvrXml(exportIvrXml(config))).toEqual({ config, problems: [] });
  });

  it('carries the company hours, the directory settings and single-level call handling, and gives them back equal', () => {
    const config: IvrConfig = structuredClone(IVR_SAMPLES['single-level']);
    config.settings.hours = { mode: 'custom', days: { mon: [{ from: '08:30', to: '12:00' }, { from: '13:00', to: '24:00' }], tue: [{ from: '09:00', to: '17:00' }], wed: [], thu: [], fri: [{ from: '09:00', to: '15:00' }], sat: [], sun: [] } };
    config.settings.directory = { enabled: false, searchBy: 'first_name', extensions: ['102', '103'] };
    config.settings.singleLevel = { businessHours: { type: 'company_greeting' }, afterHours: { type: 'extension', extension: '102' }, greeting: { mode: 'audio', prompt: 'Welcome & "hello"' }, noAction: 'disconnect' };
    expect(importIvrXml(exportIvrXml(config))).toEqual({ config, problems: [] });
    // Every user in the directory (no list), the switch never set, the default greeting.
    config.settings.directory = { searchBy: 'last_name', extensions: null };
    config.settings.singleLevel = { ...config.settings.singleLevel, greeting: { mode: 'default' } };
    expect(importIvrXml(exportIvrXml(config))).toEqual({ config, problems: [] });
  });

  it('carries the custom answering rules in their order and gives them back equal; a wrong rule is left out with its line', () => {
    const rules: CompanyRuleInput[] = [
      { name: 'Holidays & "closures"', enabled: true, target: { type: 'menu', menu: '1003' }, conditions: [{ type: 'date_range', ranges: [{ from: '2026-12-24T00:00', to: '2026-12-26T00:00' }] }, { type: 'called_number', numbers: ['+14155550100'] }] },
      { name: 'VIP', enabled: false, target: { type: 'extension', extension: '102' }, conditions: [{ type: 'caller_id', numbers: ['+14155550111', '201'], contactIds: [], anonymous: true }] },
      { name: 'Lunch', enabled: true, target: { type: 'extension', extension: '103' }, conditions: [{ type: 'schedule', schedule: { mode: 'custom', days: { mon: [{ from: '12:00', to: '13:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } } }] },
    ];
    const config = structuredClone(IVR_SAMPLES['multi-level']);
    const back = importIvrXml(exportIvrXml(config, rules));
    expect(back).toEqual({ config: { ...config, customRules: rules }, problems: [] });
    // The samples carry no rules: importing one keeps the account's.
    expect(importIvrXml(exportIvrXml(config)).config).not.toHaveProperty('customRules');
    const xml = exportIvrXml(config, rules).replace('<number value="+14155550100"/>', '<number value="call me"/>');
    const report = importIvrXml(xml);
    expect(report.config!.customRules!.map((r) => r.name)).toEqual(['VIP', 'Lunch']);
    expect(report.problems).toEqual([{ line: xml.split('\n').findIndex((l) => l.includes('<rule name="Holidays')) + 1, message: expect.stringMatching(/^custom rule "Holidays & "closures"": conditions\.1\.numbers\.0: .*; the rule is left out$/) }]);
  });

  it('leaves the hours, directory and single-level settings out of what a file gives when it does not carry them or carries them wrong, saying which', () => {
    const without = importIvrXml('<ivr xmlns="urn:carillon:ivr:1" version="1"><settings mode="single"/></ivr>');
    expect(without.problems).toEqual([]);
    expect(without.config!.settings).not.toHaveProperty('hours');
    expect(without.config!.settings).not.toHaveProperty('directory');
    expect(without.config!.settings).not.toHaveProperty('singleLevel');
    const wrong = importIvrXml(`<ivr xmlns="urn:carillon:ivr:1" version="1">
  <settings mode="single">
    <hours mode="custom"><range day="mon" from="17:00" to="09:00"/></hours>
    <directory searchBy="nickname" extensions="all"/>
    <singleLevel noAction="operator"><businessHours target="extension"/><afterHours target="company_greeting"/><greeting mode="default"/></singleLevel>
  </settings>
</ivr>`);
    expect(wrong.config!.settings).not.toHaveProperty('hours');
    expect(wrong.config!.settings).not.toHaveProperty('directory');
    expect(wrong.config!.settings).not.toHaveProperty('singleLevel');
    expect(wrong.problems.map((p) => [p.line, p.message.replace(/:.*;/, ':…;')])).toEqual([
      [3, "settings hours:…; the account's are kept"],
      [4, "settings directory:…; the account's are kept"],
      [5, "settings singleLevel:…; the account's are kept"],
    ]);
  });

  it('keeps the sample files of the repository equal to the samples the app serves', () => {
    expect(read('samples/single-level.xml')).toBe(exportIvrXml(IVR_SAMPLES['single-level']));
    expect(read('samples/multi-level.xml')).toBe(exportIvrXml(IVR_SAMPLES['multi-level']));
  });

  it('declares in the XSD every element and attribute the export writes', () => {
    const xsd = read('ivr.xsd');
    const declared = new Set([...xsd.matchAll(/<xs:(?:element|attribute) name="([^"]+)"/g)].map((m) => m[1]));
    const used = new Set<string>();
    const walk = (el: ReturnType<typeof parseXml>) => {
      used.add(el.name);
      for (const a of Object.keys(el.attrs)) if (a !== 'xmlns') used.add(a);
      el.children.forEach(walk);
    };
    walk(parseXml(exportIvrXml(IVR_SAMPLES['multi-level'])));
    walk(parseXml(read('samples/single-level.xml')));
    // Every optional part too: custom hours, the directory, single-level handling, rules with each condition.
    const full: IvrConfig = structuredClone(IVR_SAMPLES['single-level']);
    const week = { mode: 'custom' as const, days: { mon: [{ from: '09:00', to: '17:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    full.settings.hours = week;
    full.settings.directory = { enabled: true, searchBy: 'first_name', extensions: ['102'] };
    full.settings.singleLevel = { businessHours: { type: 'extension', extension: '102' }, afterHours: { type: 'company_greeting' }, greeting: { mode: 'audio', prompt: 'Hi' }, noAction: 'operator' };
    walk(
      parseXml(
        exportIvrXml(full, [
          {
            name: 'All',
            enabled: true,
            target: { type: 'menu', menu: '1001' },
            conditions: [
              { type: 'caller_id', numbers: ['201'], contactIds: ['00000000-0000-4000-8000-000000000001'], anonymous: false },
              { type: 'called_number', numbers: ['201'] },
              { type: 'date_range', ranges: [{ from: '2026-01-01T00:00', to: '2026-01-02T00:00' }] },
              { type: 'schedule', schedule: week },
            ],
          },
        ]),
      ),
    );
    expect([...used].filter((n) => !declared.has(n))).toEqual([]);
  });

  it('reports a billion-laughs file and a corrupt file, importing nothing', () => {
    expect(importIvrXml(BILLION_LAUGHS)).toEqual({ config: null, problems: [{ line: 2, message: expect.stringMatching(/entities are never expanded/) }] });
    const corrupt = exportIvrXml(IVR_SAMPLES['multi-level']).slice(0, 700);
    const report = importIvrXml(corrupt);
    expect(report.config).toBeNull();
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]!.message).toMatch(/never closed|unterminated|expected/);
    expect(importIvrXml('<menus/>')).toEqual({ config: null, problems: [{ line: 1, message: 'the root element is <menus>, not <ivr>' }] });
  });

  it('leaves out invalid menus and keys with their line, keeps the rest', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ivr xmlns="urn:carillon:ivr:1" version="1">
  <settings mode="sideways">
    <genericKeys hash="repeat" star="previous"/>
    <noInput action="disconnect"/>
    <zeroDialing action="operator"/>
  </settings>
  <menu number="1001" name="Main" language="en">
    <prompt mode="tts">Press # for more</prompt>
    <key press="1" action="connect" extension="101"/>
    <key press="#" action="connect" extension="102"/>
    <key press="2" action="teleport" extension="102"/>
    <key press="3" action="external" number="12"/>
  </menu>
  <menu number="12345678" name="Too long" language="en"/>
  <menu number="1001" name="Again" language="en"/>
</ivr>`;
    const report = importIvrXml(xml);
    expect(report.config!.settings.mode).toBe('single');
    expect(report.config!.menus).toEqual([{ number: '1001', name: 'Main', language: 'en', prompt: null, keys: { '1': { type: 'connect', extension: '101' } }, genericKeys: null }]);
    expect(report.problems.map((p) => p.line)).toEqual([3, 11, 12, 13, 9, 15, 16]);
    expect(report.problems.map((p) => p.message).join('\n')).toMatch(/settings mode/);
  });

  it('a file naming unknown extensions imports, and validation reports each one', () => {
    const config = importIvrXml(exportIvrXml(IVR_SAMPLES['multi-level'])).config!;
    const issues = validateIvr(config, { extensions: new Set(['101', '102']), prompts: new Set() });
    expect(issues.filter((i) => i.rule === 'deleted_extension')).toEqual([{ rule: 'deleted_extension', menu: '1004', key: '2', target: '103' }]);
  });
});
