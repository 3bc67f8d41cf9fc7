// Shows user-typed text inside a reply as a markdown code span: never rendered as markdown or as
// an @mention, control characters made visible, long text shortened.

const MAX_SHOWN = 60;

export function codeSpan(text: string): string {
  const visible = text
    .replace(/[\u0000-\u001f\u007f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`)
    // Zero-width and other format characters (U+200B, U+2060, U+FEFF, …), pasted from chat or docs.
    .replace(/\p{Cf}/gu, (char) => `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`);
  const short = visible.length > MAX_SHOWN ? `${visible.slice(0, MAX_SHOWN - 1)}…` : visible;
  if (short === '') {
    return '`""`';
  }
  const longestRun = Math.max(0, ...Array.from(short.matchAll(/`+/g), (match) => match[0].length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = longestRun > 0 || short.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${short}${pad}${fence}`;
}
