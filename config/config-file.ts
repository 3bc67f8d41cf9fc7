// Reads the server settings from the TIDELINE_CONFIG YAML file: the same settings as the
// environment, as snake_case keys without the prefix (`port: 8080`, `repo_allowlist: [acme/*]`).
// The file also holds sections other modules own (`repos:`, `workflows:`, `kubernetes:`,
// `drift:`, …), which are left to them; any other top-level key is refused with its fix.

import path from 'node:path';
import { isAlias, isMap, isNode, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import type { ConfigProblem } from './settings.js';
import { SETTING_VARIABLES, variableForEnv, variableForKey } from './variables.js';
import type { RawValues, SettingVariable, VariableName } from './variables.js';
import { editDistance } from './edit-distance.js';
import { DriftSectionSchema } from './drift-settings.js';
import { KubernetesSectionSchema } from './kubernetes-settings.js';
import { ServerRepoSectionsSchema } from './server-repos.js';

export interface ConfigFileValues {
  values: RawValues;
  problems: ConfigProblem[];
  /** Settings the file gives a value for that could not be read (already among `problems`). */
  rejected: VariableName[];
}

const SETTING_KEYS: readonly string[] = SETTING_VARIABLES.flatMap((variable) => (variable.key === null ? [] : [variable.key]));

/**
 * The file's sections other readers own (repo rules, clusters, drift). Any other top-level key is
 * refused, as Atlantis refuses unknown keys in its server-side repo config: ignored, a misspelt
 * `kubernets:` would leave every cluster unconfigured without a word at start-up.
 */
const SECTION_KEYS: readonly string[] = [...Object.keys(ServerRepoSectionsSchema.shape), 'kubernetes', 'drift'];

/** Keys of a section written at the top level: where they belong. */
const NESTED_KEYS: ReadonlyMap<string, string> = new Map([
  ...Object.keys(KubernetesSectionSchema.shape).map((key): [string, string] => [key, 'kubernetes']),
  ...Object.keys(DriftSectionSchema.shape).map((key): [string, string] => [key, 'drift']),
]);

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let index = 0; index < offset && index < text.length; index += 1) {
    if (text[index] === '\n') {
      line += 1;
    }
  }
  return line;
}

/** For a key that is not a setting: the fix, or null for a section another reader owns. */
function unknownKeyFix(key: string): string | null {
  if (variableForEnv(key)?.key === null) {
    return `can only be set in the environment: remove it from the file`;
  }
  const normal = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/-/g, '_')
    .replace(/^tideline_/, '');
  if (SETTING_KEYS.includes(normal)) {
    return `is not a setting name: write it as \`${normal}\``;
  }
  const near = SETTING_KEYS.find((known) => normal.length >= 4 && editDistance(normal, known) <= 2);
  if (near !== undefined) {
    return `is not a setting name: did you mean \`${near}\`?`;
  }
  if (SECTION_KEYS.includes(key)) {
    return null;
  }
  const section = NESTED_KEYS.get(normal);
  if (section !== undefined) {
    return `belongs under \`${section}:\`: write it as \`${section}: { ${normal}: … }\``;
  }
  const nearSection = SECTION_KEYS.find((known) => editDistance(normal, known) <= 2);
  const fix = nearSection === undefined ? 'remove it, or see config/example.yaml for the settings and sections' : `did you mean \`${nearSection}\`?`;
  return `is not a setting or a section of the server config: ${fix}`;
}

/** A scalar's text as written (so `port: 0x10` stays `0x10`), or null when it is empty. */
function scalarText(node: YamlNode): string | null {
  if (!isScalar(node) || node.value === null || node.value === undefined) {
    return null;
  }
  return typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
}

/** The raw text of one setting's YAML value, or the problem with it. */
function valueText(node: YamlNode | null, variable: SettingVariable): { text: string | null } | { problem: string } {
  if (node === null || (isScalar(node) && (node.value === null || node.value === undefined))) {
    return { text: null };
  }
  if (isAlias(node)) {
    return { problem: 'is a YAML alias: write the value out (quote it if it starts with `*`)' };
  }
  if (isSeq(node) && variable.kind === 'list') {
    const items: string[] = [];
    for (const item of node.items) {
      const text = isScalar(item) ? scalarText(item) : null;
      if (text === null) {
        return { problem: `must be a list of ${variable.items ?? 'plain values'}: write it like \`${variable.example ?? '[a, b]'}\`` };
      }
      items.push(text);
    }
    return { text: items.join(',') };
  }
  if (isScalar(node)) {
    return { text: scalarText(node) };
  }
  return { problem: `must be a single value, not a ${isMap(node) ? 'mapping' : 'list'}: write it as \`key: value\`` };
}

/** Reads the settings in `text`, the content of the YAML file at the absolute path `file`. */
export function readConfigFile(file: string, text: string): ConfigFileValues {
  const doc = parseDocument(text, { prettyErrors: false });
  const [error] = doc.errors;
  if (error !== undefined) {
    const reason = error.message.split('\n')[0] ?? error.code;
    return {
      values: {},
      rejected: [],
      problems: [
        {
          variable: 'TIDELINE_CONFIG',
          message: `file ${file} is not valid YAML at line ${lineAt(text, error.pos[0])} (${reason}): fix the YAML on that line`,
        },
      ],
    };
  }
  if (doc.contents === null) {
    return { values: {}, problems: [], rejected: [] };
  }
  if (!isMap(doc.contents)) {
    return {
      values: {},
      rejected: [],
      problems: [{ variable: 'TIDELINE_CONFIG', message: `file ${file} must be a YAML mapping of settings: write it like \`port: 4141\`` }],
    };
  }
  const values: RawValues = {};
  const problems: ConfigProblem[] = [];
  const rejected: VariableName[] = [];
  const baseDir = path.dirname(file);
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : null;
    const keyOffset = isScalar(pair.key) ? (pair.key.range?.[0] ?? 0) : 0;
    const origin = `${key ?? 'a key'} in ${file} line ${lineAt(text, keyOffset)}`;
    if (key === null) {
      problems.push({ variable: origin, message: 'is not a plain key: write settings as `key: value`' });
      continue;
    }
    const variable = variableForKey(key);
    if (variable === undefined) {
      const fix = unknownKeyFix(key);
      if (fix !== null) {
        problems.push({ variable: origin, message: fix });
      }
      continue;
    }
    const read = valueText(isNode(pair.value) ? pair.value : null, variable);
    if ('problem' in read) {
      problems.push({ variable: origin, message: read.problem });
      rejected.push(variable.env);
    } else if (read.text !== null && read.text.trim() !== '') {
      values[variable.env] = { value: read.text, origin, baseDir };
    }
  }
  return { values, problems, rejected };
}
