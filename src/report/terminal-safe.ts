/**
 * Strings taken from a file (its path, section names, import names, resource strings) must
 * not steer the terminal or the reader: an ESC or BEL could set the window title or colours,
 * a CR could overwrite a result line, a newline could forge one, and bidirectional controls
 * (U+202E) could show a name backwards. Human-readable output (text, stderr, HTML text)
 * shows such characters as visible escapes; JSON and SARIF keep the exact strings.
 */

/** C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates, marks, line separators. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `s` with every unsafe character shown as `\xNN` or `\uNNNN`. */
export function visible(s: string): string {
  return s.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  });
}

/** True when `s` holds nothing `visible` would change. */
export function isVisible(s: string): boolean {
  UNSAFE.lastIndex = 0;
  return !UNSAFE.test(s);
}

/**
 * A copy of a plain-data value (a report) with every string made visible. Object keys are
 * left as they are: they are ours.
 */
export function visibleDeep<T>(value: T): T {
  return walk(value) as T;
}

function walk(value: unknown): unknown {
  if (typeof value === 'string') return isVisible(value) ? value : visible(value);
  if (Array.isArray(value)) return value.map(walk);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v);
    return out;
  }
  return value;
}
