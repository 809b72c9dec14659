/**
 * A small XML parser for the files admins upload (IVR XML, IVR-23). It reads elements, attributes,
 * text, CDATA, comments and processing instructions, and refuses any document type declaration: no
 * DTD, so no entity is ever defined, let alone expanded (an "XML bomb" such as billion laughs is
 * refused at its `<!DOCTYPE`, before anything grows), and no external entity is ever fetched. Only the
 * five predefined entities and character references are decoded (XML 1.0 §4.6, §4.1). Size, depth and
 * element count are bounded. Namespaces are not interpreted: a prefixed name is kept as written.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (CDATA included), children's text excluded. */
  text: string;
  line: number;
}

export class XmlParseError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'XmlParseError';
    this.line = line;
  }
}

export interface XmlLimits {
  maxBytes: number;
  maxDepth: number;
  maxElements: number;
}

const DEFAULT_LIMITS: XmlLimits = { maxBytes: 1024 * 1024, maxDepth: 32, maxElements: 20_000 };
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;

export function parseXml(input: string, limits: Partial<XmlLimits> = {}): XmlElement {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  if (Buffer.byteLength(input, 'utf8') > lim.maxBytes) throw new XmlParseError(`the file is larger than ${lim.maxBytes} bytes`, 1);
  let i = input.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let elements = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;

  const fail = (message: string): never => {
    throw new XmlParseError(message, line);
  };
  const advance = (to: number) => {
    for (let k = i; k < to; k++) if (input.charCodeAt(k) === 10) line++;
    i = to;
  };
  const decode = (raw: string): string =>
    raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
      if (!whole.endsWith(';')) fail(`"&" must start an entity reference ending with ";" (write &amp;)`);
      if (ref.startsWith('#')) {
        const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        if (!Number.isInteger(code) || code <= 0 || code > 0x10ffff) fail(`bad character reference &${ref};`);
        return String.fromCodePoint(code);
      }
      const value = PREDEFINED[ref];
      if (value === undefined) fail(`unknown entity &${ref}; (only &lt; &gt; &amp; &quot; &apos; are defined)`);
      return value!;
    });
  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(input);
    if (!m) fail('a name was expected');
    advance(i + m![0].length);
    return m![0];
  };
  const skipSpace = () => {
    let k = i;
    while (k < input.length && /\s/.test(input[k]!)) k++;
    advance(k);
  };
  const addText = (text: string) => {
    const top = stack[stack.length - 1];
    if (top) top.text += text;
    else if (text.trim()) fail('text outside the root element');
  };

  while (i < input.length) {
    const lt = input.indexOf('<', i);
    if (lt < 0) {
      addText(decode(input.slice(i)));
      advance(input.length);
      break;
    }
    if (lt > i) {
      const raw = input.slice(i, lt);
      advance(lt);
      addText(decode(raw));
    }
    if (input.startsWith('<!--', i)) {
      const endAt = input.indexOf('-->', i + 4);
      if (endAt < 0) fail('unterminated comment');
      advance(endAt + 3);
    } else if (input.startsWith('<![CDATA[', i)) {
      const endAt = input.indexOf(']]>', i + 9);
      if (endAt < 0) fail('unterminated CDATA section');
      if (!stack.length) fail('CDATA outside the root element');
      stack[stack.length - 1]!.text += input.slice(i + 9, endAt);
      advance(endAt + 3);
    } else if (input.startsWith('<!', i)) {
      // <!DOCTYPE …> and anything else of a DTD: refused, never read (XML 1.0 §2.8, §4.2).
      fail('document type declarations (<!DOCTYPE, <!ENTITY) are not accepted: entities are never expanded');
    } else if (input.startsWith('<?', i)) {
      const endAt = input.indexOf('?>', i + 2);
      if (endAt < 0) fail('unterminated processing instruction');
      advance(endAt + 2);
    } else if (input.startsWith('</', i)) {
      advance(i + 2);
      const name = readName();
      skipSpace();
      if (input[i] !== '>') fail(`">" expected to close </${name}`);
      advance(i + 1);
      const open = stack.pop();
      if (!open) fail(`closing tag </${name}> without an opening tag`);
      if (open!.name !== name) fail(`</${name}> closes <${open!.name}>`);
      if (!stack.length) root = open!;
    } else {
      advance(i + 1);
      if (root) fail('a second root element');
      const el: XmlElement = { name: readName(), attrs: {}, children: [], text: '', line };
      if (++elements > lim.maxElements) fail(`more than ${lim.maxElements} elements`);
      if (stack.length >= lim.maxDepth) fail(`elements nested deeper than ${lim.maxDepth}`);
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      for (;;) {
        skipSpace();
        if (input.startsWith('/>', i)) {
          advance(i + 2);
          if (!parent) root = el;
          break;
        }
        if (input[i] === '>') {
          advance(i + 1);
          stack.push(el);
          break;
        }
        if (i >= input.length) fail(`unterminated tag <${el.name}`);
        const attr = readName();
        skipSpace();
        if (input[i] !== '=') fail(`"=" expected after attribute ${attr}`);
        advance(i + 1);
        skipSpace();
        const quote = input[i];
        if (quote !== '"' && quote !== "'") fail(`attribute ${attr} needs a quoted value`);
        const endAt = input.indexOf(quote!, i + 1);
        if (endAt < 0) fail(`unterminated value of attribute ${attr}`);
        const raw = input.slice(i + 1, endAt);
        if (raw.includes('<')) fail(`"<" in the value of attribute ${attr}`);
        if (Object.hasOwn(el.attrs, attr)) fail(`attribute ${attr} given twice`);
        el.attrs[attr] = decode(raw);
        advance(endAt + 1);
      }
    }
  }
  if (stack.length) fail(`<${stack[stack.length - 1]!.name}> is never closed`);
  if (!root) fail('no root element');
  return root!;
}

/** Escapes text and attribute values for writing. */
export function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
