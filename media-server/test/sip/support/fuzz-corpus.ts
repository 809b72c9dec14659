/**
 * The SIP fuzz corpus: malformed and mutated messages derived deterministically
 * from a few valid seeds. `write-fuzz-corpus.ts` writes them under
 * `test/sip/fuzz-corpus/` for review; `fuzz-corpus.test.ts` checks the files
 * still match this generator and replays them against a running stack.
 */

export interface FuzzCase {
  /** File name: `NNN-seed-mutation.sip`. */
  name: string;
  data: Buffer;
}

const CRLF = '\r\n';
const lines = (...l: string[]) => l.join(CRLF);

function withBody(head: string[], body: string): string {
  return lines(...head, `Content-Length: ${Buffer.byteLength(body)}`, '', body);
}

const SDP = lines(
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 49170 RTP/AVP 0 8 101',
  'a=rtpmap:101 telephone-event/8000',
  '',
);

/** Valid messages; each has its own branch so mutants of different seeds never match one transaction. */
const SEEDS: Record<string, string> = {
  invite: withBody(
    [
      'INVITE sip:bob@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKseedinvite;rport',
      'Max-Forwards: 70',
      'From: "Alice" <sip:alice@carillon.test>;tag=1928301774',
      'To: <sip:bob@carillon.test>',
      'Call-ID: a84b4c76e66710@fuzz.test',
      'CSeq: 314159 INVITE',
      'Contact: <sip:alice@127.0.0.1:5070>',
      'Content-Type: application/sdp',
    ],
    SDP,
  ),
  register: withBody(
    [
      'REGISTER sip:carillon.test SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKseedregister;rport',
      'Max-Forwards: 70',
      'To: "Bob" <sip:101@carillon.test>',
      'From: "Bob" <sip:101@carillon.test>;tag=456248',
      'Call-ID: 843817637684230@fuzz.test',
      'CSeq: 1826 REGISTER',
      'Contact: <sip:101@127.0.0.1:5070;transport=udp>;expires=3600',
      'Authorization: Digest username="101", realm="carillon.test", nonce="abc", uri="sip:carillon.test", response="0123456789abcdef0123456789abcdef"',
    ],
    '',
  ),
  options: withBody(
    [
      'OPTIONS sip:carillon.test SIP/2.0',
      'v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKseedoptions;rport',
      'Max-Forwards: 70',
      't: <sip:carillon.test>',
      'f: <sip:monitor@carillon.test>;tag=opt1',
      'i: options-seed@fuzz.test',
      'CSeq: 7 OPTIONS',
      'Accept: application/sdp',
    ],
    '',
  ),
  message: withBody(
    [
      'MESSAGE sip:bob@carillon.test SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKseedmessage;rport',
      'Max-Forwards: 70',
      'From: "Zoë Ærø" <sip:zoe@carillon.test>;tag=49583',
      'To: <sip:bob@carillon.test>',
      'Call-ID: message-seed@fuzz.test',
      'CSeq: 1 MESSAGE',
      'Content-Type: text/plain;charset=utf-8',
    ],
    'Bonjour, ça va ? 👋',
  ),
  bye: withBody(
    [
      'BYE sip:alice@127.0.0.1:5070 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKseedbye;rport',
      'Max-Forwards: 69',
      'Route: <sip:edge.carillon.test;lr>, <sip:core.carillon.test;lr>',
      'From: <sip:bob@carillon.test>;tag=a6c85cf',
      'To: "Alice" <sip:alice@carillon.test>;tag=1928301774',
      'Call-ID: a84b4c76e66710@fuzz.test',
      'CSeq: 231 BYE',
    ],
    '',
  ),
  ack: withBody(
    [
      'ACK sip:bob@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKseedack;rport',
      'Max-Forwards: 70',
      'From: "Alice" <sip:alice@carillon.test>;tag=1928301774',
      'To: <sip:bob@carillon.test>;tag=314',
      'Call-ID: a84b4c76e66710@fuzz.test',
      'CSeq: 314159 ACK',
    ],
    '',
  ),
  response: withBody(
    [
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKseedresponse;received=127.0.0.1;rport=5070',
      'From: "Alice" <sip:alice@carillon.test>;tag=1928301774',
      'To: <sip:bob@carillon.test>;tag=314',
      'Call-ID: a84b4c76e66710@fuzz.test',
      'CSeq: 314159 INVITE',
      'Contact: <sip:bob@127.0.0.1:5080>',
      'Content-Type: application/sdp',
    ],
    SDP,
  ),
};

/** mulberry32: small, seedable, and the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = [name: string, mutate: (seed: string) => string | Buffer];

const headLines = (msg: string) => msg.slice(0, msg.indexOf(CRLF + CRLF)).split(CRLF);
const bodyOf = (msg: string) => msg.slice(msg.indexOf(CRLF + CRLF) + 4);
const rebuild = (head: string[], body: string) => head.join(CRLF) + CRLF + CRLF + body;
const isHeader = (line: string, names: string[]) =>
  names.includes(line.slice(0, line.indexOf(':')).trim().toLowerCase());

const ALIASES: Record<string, string[]> = {
  via: ['via', 'v'],
  from: ['from', 'f'],
  to: ['to', 't'],
  'call-id': ['call-id', 'i'],
  cseq: ['cseq'],
  'max-forwards': ['max-forwards'],
  'content-length': ['content-length', 'l'],
};

function dropHeader(name: string): Mutation {
  return [
    `drop-${name}`,
    (m) =>
      rebuild(
        headLines(m).filter((l, i) => i === 0 || !isHeader(l, ALIASES[name]!)),
        bodyOf(m),
      ),
  ];
}

function replaceHeader(label: string, name: string, value: string): Mutation {
  return [
    label,
    (m) =>
      rebuild(
        headLines(m).map((l, i) =>
          i > 0 && isHeader(l, ALIASES[name] ?? [name]) ? `${l.slice(0, l.indexOf(':'))}: ${value}` : l,
        ),
        bodyOf(m),
      ),
  ];
}

function addHeaders(label: string, extra: string[]): Mutation {
  return [label, (m) => rebuild([...headLines(m), ...extra], bodyOf(m))];
}

function duplicateHeader(name: string): Mutation {
  return [
    `duplicate-${name}`,
    (m) => {
      const head = headLines(m);
      const i = head.findIndex((l, n) => n > 0 && isHeader(l, ALIASES[name]!));
      if (i < 0) return m;
      head.splice(i + 1, 0, head[i]!);
      return rebuild(head, bodyOf(m));
    },
  ];
}

const replaceStart = (label: string, start: string): Mutation => [
  label,
  (m) => rebuild([start, ...headLines(m).slice(1)], bodyOf(m)),
];

/** Mutations applied to every seed. */
const STRUCTURAL: Mutation[] = [
  ...Object.keys(ALIASES).map(dropHeader),
  ...['via', 'cseq', 'call-id', 'from', 'content-length'].map(duplicateHeader),
  replaceHeader('content-length-larger', 'content-length', '9999'),
  replaceHeader('content-length-negative', 'content-length', '-1'),
  replaceHeader('content-length-words', 'content-length', 'twelve'),
  replaceHeader('content-length-huge', 'content-length', '99999999999999999999'),
  replaceHeader('content-length-zero-with-body', 'content-length', '0'),
  addHeaders('content-length-conflicting', ['Content-Length: 3']),
  replaceHeader('cseq-method-mismatch', 'cseq', '1 NOTIFY'),
  replaceHeader('cseq-overflow', 'cseq', '99999999999 INVITE'),
  replaceHeader('cseq-no-method', 'cseq', '12'),
  replaceHeader('via-no-version', 'via', 'UDP 127.0.0.1:5070;branch=z9hG4bKx'),
  replaceHeader('via-port-out-of-range', 'via', 'SIP/2.0/UDP 127.0.0.1:99999;branch=z9hG4bKx;rport'),
  replaceHeader('via-no-branch', 'via', 'SIP/2.0/UDP 127.0.0.1:5070;rport'),
  replaceHeader('via-garbage', 'via', ';;;,,,<<>>'),
  replaceHeader('from-no-uri', 'from', '"Alice" <>;tag=1'),
  replaceHeader('to-unclosed-angle', 'to', '<sip:bob@carillon.test'),
  replaceHeader('max-forwards-negative', 'max-forwards', '-5'),
  replaceHeader('max-forwards-huge', 'max-forwards', '70000'),
  replaceHeader('call-id-empty', 'call-id', ''),
  addHeaders('header-without-colon', ['This line has no colon']),
  addHeaders('header-name-with-space', ['Bad Name: value']),
  addHeaders('header-value-10k', [`X-Pad: ${'x'.repeat(10_000)}`]),
  addHeaders(
    'too-many-headers',
    Array.from({ length: 200 }, (_, i) => `X-H${i}: ${i}`),
  ),
  addHeaders('nul-in-header', ['X-Nul: a\u0000b']),
  [
    'invalid-utf8-header',
    (m) =>
      Buffer.concat([
        Buffer.from(headLines(m).join(CRLF) + CRLF + 'X-Bytes: '),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
        Buffer.from(CRLF + CRLF + bodyOf(m)),
      ]),
  ],
  addHeaders('control-chars', ['X-Ctl: \u0001\u0002\u001b[31m']),
  [
    'fold-first-line',
    (m) =>
      rebuild([headLines(m)[0]!, ' continuation before any header', ...headLines(m).slice(1)], bodyOf(m)),
  ],
  ['lf-only', (m) => m.replaceAll(CRLF, '\n')],
  ['cr-only', (m) => m.replaceAll(CRLF, '\r')],
  ['no-blank-line', (m) => headLines(m).join(CRLF) + CRLF],
  ['single-line', (m) => headLines(m).join(' ')],
  ['leading-crlfs', (m) => CRLF + CRLF + CRLF + m],
  ['trailing-garbage', (m) => m + '\u0000\u0000GARBAGE'],
  ['nul-in-body', (m) => rebuild(headLines(m), bodyOf(m).length ? '\u0000' + bodyOf(m).slice(1) : '')],
  ['empty', () => ''],
];

const REQUEST_LINES: Mutation[] = [
  replaceStart('method-lowercase', 'invite sip:bob@127.0.0.1 SIP/2.0'),
  replaceStart('version-3', 'OPTIONS sip:bob@127.0.0.1 SIP/3.0'),
  replaceStart('no-uri', 'OPTIONS SIP/2.0'),
  replaceStart('extra-spaces', 'OPTIONS  sip:bob@127.0.0.1  SIP/2.0'),
  replaceStart('method-illegal-chars', 'OPT(IONS) sip:bob@127.0.0.1 SIP/2.0'),
  replaceStart('uri-empty-host', 'OPTIONS sip: SIP/2.0'),
  replaceStart('uri-http', 'OPTIONS http://carillon.test/ SIP/2.0'),
  replaceStart('uri-bad-tel', 'OPTIONS tel:abc SIP/2.0'),
  replaceStart('uri-bad-escape', 'OPTIONS sip:%zz@carillon.test SIP/2.0'),
  replaceStart('uri-4k', `OPTIONS sip:${'a'.repeat(4_000)}@carillon.test SIP/2.0`),
  replaceStart('start-line-nul', 'OPTIONS sip:bob@127.0.0.1\u0000 SIP/2.0'),
  replaceStart('status-line-as-request', 'SIP/2.0 OPTIONS sip:bob@127.0.0.1'),
];

const STATUS_LINES: Mutation[] = [
  replaceStart('status-999', 'SIP/2.0 999 Nope'),
  replaceStart('status-two-digits', 'SIP/2.0 20 OK'),
  replaceStart('status-no-code', 'SIP/2.0 OK'),
  replaceStart('status-version-1', 'SIP/1.0 200 OK'),
];

const RANDOM_PER_SEED = 6;
const STRUCTURED_SEEDS = ['invite', 'options', 'message', 'response'];

/** Truncations, bit flips and byte insertions, drawn from a PRNG seeded per seed. */
function randomMutations(seedName: string, seedIndex: number, seed: Buffer): FuzzCase[] {
  const random = prng(0x5eed + seedIndex * 7919);
  const out: FuzzCase[] = [];
  const at = () => Math.floor(random() * seed.length);
  for (const fraction of [0.05, 0.25, 0.5, 0.75, 0.98]) {
    out.push({
      name: `${seedName}-truncate-${Math.round(fraction * 100)}pct`,
      data: seed.subarray(0, Math.floor(seed.length * fraction)),
    });
  }
  const headEnd = seed.indexOf(CRLF + CRLF);
  out.push({ name: `${seedName}-truncate-before-blank-line`, data: seed.subarray(0, headEnd + 2) });
  for (let i = 0; i < RANDOM_PER_SEED; i++) {
    const flips = [1, 1, 2, 4, 8, 32][i % 6]!;
    const data = Buffer.from(seed);
    for (let f = 0; f < flips; f++) {
      const p = at();
      data[p] = data[p]! ^ (1 << Math.floor(random() * 8));
    }
    out.push({ name: `${seedName}-bitflip-${flips}x-${i}`, data });
  }
  for (let i = 0; i < 4; i++) {
    const p = at();
    const junk = Buffer.from(
      Array.from({ length: 1 + Math.floor(random() * 16) }, () => Math.floor(random() * 256)),
    );
    out.push({
      name: `${seedName}-insert-bytes-${i}`,
      data: Buffer.concat([seed.subarray(0, p), junk, seed.subarray(p)]),
    });
  }
  for (let i = 0; i < 2; i++) {
    const p = at();
    const n = 1 + Math.floor(random() * 40);
    out.push({
      name: `${seedName}-delete-bytes-${i}`,
      data: Buffer.concat([seed.subarray(0, p), seed.subarray(p + n)]),
    });
  }
  return out;
}

/** Cases not derived from one seed: garbage, keep-alives, sizes around the limits. */
function standalone(): FuzzCase[] {
  const random = prng(0xfa11);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const invite = SEEDS.invite!;
  const hugeHeader = (size: number) =>
    rebuild([...headLines(invite), `X-Huge: ${'h'.repeat(size)}`], bodyOf(invite));
  return [
    { name: 'random-16-bytes', data: bytes(16) },
    { name: 'random-512-bytes', data: bytes(512) },
    { name: 'random-4k-bytes', data: bytes(4_096) },
    { name: 'stun-binding-request', data: Buffer.from('000100002112a442b7e7a701bc34d686fa87dfae', 'hex') },
    { name: 'crlf-ping', data: Buffer.from(CRLF + CRLF) },
    { name: 'only-crlfs', data: Buffer.from(CRLF.repeat(64)) },
    { name: 'http-request', data: Buffer.from(lines('GET / HTTP/1.1', 'Host: carillon.test', '', '')) },
    { name: 'tls-client-hello-prefix', data: Buffer.from('16030100a5010000a10303', 'hex') },
    { name: 'utf16-invite', data: Buffer.from(invite, 'utf16le') },
    {
      name: 'invalid-utf8-body',
      data: Buffer.from(
        rebuild(
          headLines(invite).map((l) => (l.startsWith('Content-Length') ? 'Content-Length: 6' : l)),
          '\u00ff\u00fe\u00c3\u0028\u00a0\u00a1',
        ),
        'latin1',
      ),
    },
    {
      name: 'via-1000-entries',
      data: Buffer.from(
        rebuild(
          [
            ...headLines(invite).slice(0, 2),
            ...Array.from(
              { length: 1_000 },
              (_, i) => `Via: SIP/2.0/UDP 10.0.${i >> 8}.${i & 255}:5060;branch=z9hG4bK${i}`,
            ),
            ...headLines(invite).slice(2),
          ],
          bodyOf(invite),
        ),
      ),
    },
    { name: 'header-line-60k', data: Buffer.from(hugeHeader(60_000)) },
    { name: 'datagram-65000', data: Buffer.from(hugeHeader(65_000 - invite.length - 12)) },
    {
      name: 'oversized-66k',
      data: Buffer.from(
        rebuild(
          headLines(invite).map((l) => (l.startsWith('Content-Length') ? 'Content-Length: 66000' : l)),
          'b'.repeat(66_000),
        ),
      ),
    },
  ];
}

export function generateFuzzCorpus(): FuzzCase[] {
  const cases: { label: string; data: Buffer }[] = [];
  Object.entries(SEEDS).forEach(([seedName, seed], seedIndex) => {
    // Structural mutations on the seeds that cover compact forms, UTF-8, a body and a response; keeps the corpus small.
    const structural = STRUCTURED_SEEDS.includes(seedName) ? STRUCTURAL : [];
    const startLines = seedName === 'response' ? STATUS_LINES : seedName === 'invite' ? REQUEST_LINES : [];
    const mutations = [...structural, ...startLines];
    for (const [label, mutate] of mutations) {
      const out = mutate(seed);
      cases.push({
        label: `${seedName}-${label}`,
        data: typeof out === 'string' ? Buffer.from(out, 'utf8') : out,
      });
    }
    for (const c of randomMutations(seedName, seedIndex, Buffer.from(seed, 'utf8')))
      cases.push({ label: c.name, data: c.data });
  });
  for (const c of standalone()) cases.push({ label: c.name, data: c.data });
  return cases.map((c, i) => ({ name: `${String(i + 1).padStart(3, '0')}-${c.label}.sip`, data: c.data }));
}

/** The valid seeds themselves, for the replay test's sanity check. */
export const FUZZ_SEEDS: Readonly<Record<string, string>> = SEEDS;
