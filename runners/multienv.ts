// The output of Atlantis's `multienv` step: `NAME1=value1,NAME2="a, quoted value",NAME3='x'`.
// Read as Atlantis reads it (server/core/runtime/multienv_step_runner.go): the whole output,
// trimmed, is one comma-separated list; a value in double quotes may hold commas and `\"` / `\\`
// escapes, one in single quotes is taken as written, and a bare value runs to the next comma
// (so it may hold `=`, as tokens do). Names must be environment variable names here, which
// Atlantis does not check: a name with `=` or a space would corrupt the child's environment.
// A refusal names the pair by its place and the name before it, never by the text printed:
// the values are often secrets, a stray comma in one makes the rest look like a pair, and the
// message is posted to the pull request.

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type MultiEnvParse = { ok: true; vars: [string, string][] } | { ok: false; message: string };

function failure(message: string): MultiEnvParse {
  return {
    ok: false,
    message: `${message}: a multienv command must print NAME=value pairs separated by commas, e.g. TF_VAR_a=1,TF_VAR_b="x, y"`,
  };
}

/** Index of the double quote closing the value opened at `start` (a quote), or -1. */
function closingDoubleQuote(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index += 1) {
    if (text[index] === '\\') index += 1;
    else if (text[index] === '"') return index;
  }
  return -1;
}

/** `pair 2 (after TF_VAR_a)`: where a refusal is, told without the output's text. */
function pairAt(vars: readonly [string, string][]): string {
  const before = vars.at(-1);
  return `pair ${vars.length + 1}${before === undefined ? '' : ` (after ${before[0]})`}`;
}

export function parseMultiEnv(output: string): MultiEnvParse {
  const text = output.trim();
  const vars: [string, string][] = [];
  let at = 0;
  while (at < text.length) {
    const equals = text.indexOf('=', at);
    if (equals < 0) return failure(`${pairAt(vars)} has no \`=\``);
    const name = text.slice(at, equals);
    if (!ENV_NAME.test(name)) return failure(`${pairAt(vars)} does not start with an environment variable name`);
    let value: string;
    let end: number;
    const quote = text[equals + 1];
    if (quote === '"') {
      const close = closingDoubleQuote(text, equals + 1);
      if (close < 0) return failure(`the value of ${name} opens a double quote it never closes`);
      value = text.slice(equals + 2, close).replace(/\\(["\\])/g, '$1');
      end = close + 1;
    } else if (quote === "'") {
      const close = text.indexOf("'", equals + 2);
      if (close < 0) return failure(`the value of ${name} opens a single quote it never closes`);
      value = text.slice(equals + 2, close);
      end = close + 1;
    } else {
      const comma = text.indexOf(',', equals + 1);
      end = comma < 0 ? text.length : comma;
      value = text.slice(equals + 1, end);
    }
    if (end < text.length && text[end] !== ',') return failure(`the quoted value of ${name} is not followed by a comma`);
    vars.push([name, value]);
    at = end + 1;
  }
  return { ok: true, vars };
}
