/**
 * Where a JSON text stops being JSON (RFC 8259), as a line and column a person can jump to.
 *
 * V8's JSON.parse messages only sometimes carry a position ("Unexpected token '}', ... is not valid
 * JSON" has none), so the loader parses with JSON.parse and, when that fails, runs this small
 * scanner to find the first offending character.
 */

export interface JsonSyntaxError { offset: number; line: number; column: number; message: string }

/** Bound on nesting so a hostile file cannot exhaust the stack. */
const MAX_DEPTH = 256;

function describe(text: string, i: number): string {
  if (i >= text.length) return 'end of input';
  return JSON.stringify(text[i]);
}

/**
 * Returns the first syntax error in `text`, or undefined when it is valid JSON. A malformed file
 * is an input, not a bug: every step returns whether it got through, and the first failure is
 * kept as a value.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  let stop: { offset: number; message: string } | undefined;
  const stopAt = (offset: number, message: string): false => { stop = { offset, message }; return false; };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (what: string): false => stopAt(i, `expected ${what} but found ${describe(text, i)}`);
  const literal = (word: string): boolean => {
    if (text.startsWith(word, i)) { i += word.length; return true; }
    return fail('a value');
  };
  const str = (): boolean => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) return stopAt(i, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return true; }
      if (c < 0x20) return stopAt(i, 'control character in string (escape it)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return stopAt(i, 'bad \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          return stopAt(i, 'bad escape in string');
        }
        continue;
      }
      i++;
    }
  };
  const num = (): boolean => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m === null) return fail('a value');
    i += m[0].length;
    return true;
  };
  const value = (depth: number): boolean => {
    if (depth > MAX_DEPTH) return stopAt(i, `nested deeper than ${MAX_DEPTH} levels`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return true; }
      for (;;) {
        ws();
        if (text[i] !== '"') return fail('a double-quoted property name');
        if (!str()) return false;
        ws();
        if (text[i] !== ':') return fail('":"');
        i++;
        if (!value(depth + 1)) return false;
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return true; }
        return fail('"," or "}"');
      }
    } else if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return true; }
      for (;;) {
        if (!value(depth + 1)) return false;
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return true; }
        return fail('"," or "]"');
      }
    } else if (c === '"') {
      return str();
    } else if (c === 't') {
      return literal('true');
    } else if (c === 'f') {
      return literal('false');
    } else if (c === 'n') {
      return literal('null');
    }
    return num();
  };
  if (value(0)) {
    ws();
    if (i >= text.length) return undefined;
    fail('end of input');
  }
  const { offset, message } = stop!;
  const { line, column } = lineColumn(text, offset);
  return { offset, line, column, message };
}

/** 1-based line and column of a UTF-16 offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text.charCodeAt(k) === 0x0a) { line++; start = k + 1; }
  }
  return { line, column: offset - start + 1 };
}
