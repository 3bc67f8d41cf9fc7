// Splits one comment line into words with simple shell-like quoting. Nothing is expanded or run:
// 'single quotes' keep everything literally; "double quotes" keep everything but \" and \\;
// outside quotes a backslash is an ordinary character. Quoted parts join adjacent text
// (-var="a b" is one word: -var=a b).

export type TokenizeResult = { ok: true; words: string[] } | { ok: false; message: string };

export function tokenize(line: string): TokenizeResult {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index] ?? '';
    if (quote === "'") {
      if (char === "'") {
        quote = null;
      } else {
        word += char;
      }
    } else if (quote === '"') {
      const next = line[index + 1];
      if (char === '\\' && (next === '"' || next === '\\')) {
        word += next;
        index += 1;
      } else if (char === '"') {
        quote = null;
      } else {
        word += char;
      }
    } else if (/\s/.test(char)) {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote !== null) {
    return { ok: false, message: `a ${quote} quote is left open: close it, or remove it` };
  }
  if (inWord) {
    words.push(word);
  }
  return { ok: true, words };
}
