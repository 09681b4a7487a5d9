/** Deepest nesting a management API body may have. Real bodies nest a handful of levels; 64 leaves ample room. */
export const MAX_JSON_DEPTH = 64;

export interface JsonScan {
  /** Deepest `[`/`{` nesting seen; the scan stops once it passes `stopAbove`, so this is then `stopAbove + 1`. */
  depth: number;
  /** A NUL character, raw or as a `\u0000` escape inside a string: Postgres text and jsonb cannot store it. */
  nul: boolean;
}

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/**
 * One pass over raw JSON text, before JSON.parse, with no recursion: anything recursive over a parsed value
 * (class-transformer, validation, pg's serialisation) overflows the stack on a body nested 100 000 deep.
 * Brackets inside strings do not count. The text need not be valid JSON; JSON.parse judges that afterwards.
 */
export function scanJson(text: string, stopAbove = MAX_JSON_DEPTH): JsonScan {
  let depth = 0;
  let deepest = 0;
  let nul = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) {
      nul = true;
    } else if (inString) {
      if (c === BACKSLASH) {
        // RFC 8259 §7: `\uXXXX` is the only escape longer than one character; `\\` must not start another escape.
        if (text.startsWith('u0000', i + 1)) nul = true;
        i++;
      } else if (c === QUOTE) {
        inString = false;
      }
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) break;
      }
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return { depth: deepest, nul };
}
