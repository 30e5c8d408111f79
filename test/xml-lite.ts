/** A tiny, strict XML reader for tests: elements, attributes, text, entities. Throws on anything ill-formed. */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string, where: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '<') throw new Error(`raw "<" in ${where}`);
    if (ch !== '&') {
      out += ch;
      continue;
    }
    const end = s.indexOf(';', i);
    const name = end < 0 ? '' : s.slice(i + 1, end);
    if (!(name in ENTITIES)) throw new Error(`unknown or unterminated entity "&${name}" in ${where}`);
    out += ENTITIES[name];
    i = end;
  }
  return out;
}

const isNameChar = (c: string) =>
  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '-' || c === '_' || c === ':' || c === '.';

export function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const readName = () => {
    const start = i;
    while (i < src.length && isNameChar(src[i])) i++;
    if (i === start) throw new Error(`expected a name at ${start}`);
    return src.slice(start, i);
  };
  const skipSpace = () => {
    while (i < src.length && ' \n\r\t'.includes(src[i])) i++;
  };
  while (i < src.length) {
    if (src[i] !== '<') {
      const end = src.indexOf('<', i);
      const text = src.slice(i, end < 0 ? src.length : end);
      if (stack.length === 0) {
        if (text.trim() !== '') throw new Error(`text outside the root element: "${text.trim().slice(0, 20)}"`);
      } else stack[stack.length - 1].text += decode(text, `text of <${stack[stack.length - 1].name}>`);
      i = end < 0 ? src.length : end;
      continue;
    }
    if (src.startsWith('<?', i)) {
      i = src.indexOf('?>', i) + 2;
      continue;
    }
    if (src.startsWith('<!--', i)) {
      i = src.indexOf('-->', i) + 3;
      continue;
    }
    if (src.startsWith('</', i)) {
      i += 2;
      const name = readName();
      skipSpace();
      if (src[i] !== '>') throw new Error(`expected ">" after </${name}`);
      i++;
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`</${name}> closes <${open?.name ?? 'nothing'}>`);
      continue;
    }
    i++;
    const el: XmlElement = { name: readName(), attrs: {}, children: [], text: '' };
    for (;;) {
      skipSpace();
      if (src.startsWith('/>', i)) {
        i += 2;
        break;
      }
      if (src[i] === '>') {
        i++;
        stack.push(el);
        break;
      }
      const attr = readName();
      skipSpace();
      if (src[i] !== '=') throw new Error(`attribute ${attr} of <${el.name}> has no value`);
      i++;
      skipSpace();
      const quote = src[i];
      if (quote !== '"' && quote !== "'") throw new Error(`attribute ${attr} of <${el.name}> is not quoted`);
      const end = src.indexOf(quote, i + 1);
      if (end < 0) throw new Error(`attribute ${attr} of <${el.name}> is not closed`);
      if (attr in el.attrs) throw new Error(`attribute ${attr} repeated on <${el.name}>`);
      el.attrs[attr] = decode(src.slice(i + 1, end), `attribute ${attr}`);
      i = end + 1;
    }
    if (stack.length > (stack[stack.length - 1] === el ? 1 : 0)) {
      const parent = stack[stack.length - (stack[stack.length - 1] === el ? 2 : 1)];
      parent.children.push(el);
    } else if (root) throw new Error('more than one root element');
    else root = el;
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
  if (!root) throw new Error('no root element');
  return root;
}

export function findAll(el: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  return [...(pred(el) ? [el] : []), ...el.children.flatMap((c) => findAll(c, pred))];
}
