import { StreamLanguage, StringStream } from '@codemirror/language';

/**
 * A small JSONata highlighter for CodeMirror 6 (StreamLanguage: a tokenizer, no parser). JSONata's grammar is
 * documented at https://docs.jsonata.org; this covers what mappings use: comments, strings, backtick names,
 * numbers, $variables and $functions, keywords, operators and path names.
 */
interface State {
  inComment: boolean;
}

const KEYWORDS = new Set(['and', 'or', 'in', 'function']);
const ATOMS = new Set(['true', 'false', 'null']);

function token(stream: StringStream, state: State): string | null {
  if (state.inComment) {
    if (stream.skipTo('*/')) {
      stream.match('*/');
      state.inComment = false;
    } else {
      stream.skipToEnd();
    }
    return 'comment';
  }
  if (stream.eatSpace()) return null;
  if (stream.match('/*')) {
    state.inComment = true;
    return token(stream, state) ?? 'comment';
  }
  const ch = stream.peek();
  if (ch === '"' || ch === "'") {
    const quote = stream.next();
    let escaped = false;
    let next: string | void;
    while ((next = stream.next()) !== undefined) {
      if (next === quote && !escaped) break;
      escaped = !escaped && next === '\\';
    }
    return 'string';
  }
  if (ch === '`') {
    stream.next();
    if (stream.skipTo('`')) stream.next();
    else stream.skipToEnd();
    return 'propertyName';
  }
  if (stream.match(/^-?\d+(\.\d+)?([eE][+-]?\d+)?/)) return 'number';
  if (stream.match(/^\$\$?[\w]*/)) {
    // $name( is a function call, $name a variable; $ and $$ are the context and root.
    return stream.peek() === '(' ? 'variableName.function' : 'variableName';
  }
  if (stream.match(/^(:=|~>|!=|<=|>=|\?:|\?\?|\.\.|[-+*/%&=<>!?:.,;|^#@~])/)) return 'operator';
  if (stream.match(/^[[\]{}()]/)) return 'bracket';
  const word = stream.match(/^[A-Za-z_][\w]*/) as RegExpMatchArray | null;
  if (word) {
    if (KEYWORDS.has(word[0])) return 'keyword';
    if (ATOMS.has(word[0])) return 'atom';
    return 'propertyName';
  }
  stream.next();
  return null;
}

export const jsonata = StreamLanguage.define<State>({
  name: 'jsonata',
  startState: () => ({ inComment: false }),
  copyState: (state) => ({ ...state }),
  token,
  languageData: {
    commentTokens: { block: { open: '/*', close: '*/' } },
    closeBrackets: { brackets: ['(', '[', '{', '"'] },
  },
});
