// Rules that span several variables: which GitHub auth form is configured (and reading the App's
// private key), and the web UI login pair. They run on the raw values, beside the schema, so a
// missing token is reported together with every other problem.

import { createPrivateKey } from 'node:crypto';
import path from 'node:path';
import type { ConfigProblem, GitHubAuth } from './settings.js';
import type { RawValues, VariableName } from './variables.js';

export interface AuthCheck {
  auth: GitHubAuth | null;
  problems: ConfigProblem[];
}

function where(raw: RawValues, name: VariableName): string {
  return raw[name]?.origin ?? name;
}

function errorReason(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return error instanceof Error ? error.message : String(error);
}

function readPrivateKey(raw: RawValues, readFile: (file: string) => string): { file: string; key: string } | ConfigProblem {
  const given = raw.TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE;
  if (given === undefined) {
    return {
      variable: 'TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE',
      message: `is required with ${where(raw, 'TIDELINE_GITHUB_APP_ID')}: set it to the path of the App's private key (.pem) file`,
    };
  }
  const file = path.resolve(given.baseDir, given.value);
  let key: string;
  try {
    key = readFile(file);
  } catch (error: unknown) {
    return {
      variable: given.origin,
      message: `names ${file}, which cannot be read (${errorReason(error)}): point it at the App's private key file and let the server user read it`,
    };
  }
  // Parsed now, not only matched by its header: a truncated or mangled key would otherwise pass
  // here and stop start-up later with OpenSSL's words ("DECODER routines::unsupported") and no
  // variable named.
  let type: string | undefined;
  try {
    type = createPrivateKey(key).asymmetricKeyType;
  } catch {
    return {
      variable: given.origin,
      message: `names ${file}, which holds no PEM private key: generate a private key on the App's settings page and point this at the downloaded .pem file`,
    };
  }
  if (type !== 'rsa') {
    return {
      variable: given.origin,
      message: `names ${file}, which holds a key of type ${type ?? 'unknown'}, not the RSA key GitHub issues: generate a private key on the App's settings page and point this at the downloaded .pem file`,
    };
  }
  return { file, key };
}

/** The GitHub auth form the raw values configure, or the problems with them. */
export function checkGitHubAuth(raw: RawValues, readFile: (file: string) => string): AuthCheck {
  const token = raw.TIDELINE_GITHUB_TOKEN;
  const appId = raw.TIDELINE_GITHUB_APP_ID;
  const keyFile = raw.TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE;
  if (token !== undefined && (appId !== undefined || keyFile !== undefined)) {
    const app = appId !== undefined ? appId.origin : (keyFile?.origin ?? 'TIDELINE_GITHUB_APP_ID');
    return {
      auth: null,
      problems: [
        {
          variable: token.origin,
          message: `and ${app} are both set: choose one way to authenticate; unset the token to use the App, or unset TIDELINE_GITHUB_APP_ID and TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE to use the token`,
        },
      ],
    };
  }
  if (token !== undefined) {
    return { auth: { kind: 'token', token: token.value }, problems: [] };
  }
  if (appId === undefined && keyFile === undefined) {
    return {
      auth: null,
      problems: [
        {
          variable: 'TIDELINE_GITHUB_TOKEN',
          message:
            'or TIDELINE_GITHUB_APP_ID with TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE is required: set a token that can read the allowed repositories and write comments and statuses, or the GitHub App ID and the path of its private key file',
        },
      ],
    };
  }
  const problems: ConfigProblem[] = [];
  if (appId === undefined) {
    problems.push({
      variable: 'TIDELINE_GITHUB_APP_ID',
      message: `is required with ${where(raw, 'TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE')}: set it to the App ID shown on the App's settings page`,
    });
  }
  const key = readPrivateKey(raw, readFile);
  if ('variable' in key) {
    problems.push(key);
  }
  if (appId === undefined || 'variable' in key) {
    return { auth: null, problems };
  }
  return { auth: { kind: 'app', appId: appId.value, privateKeyFile: key.file, privateKey: key.key }, problems: [] };
}

/** Problems with the web UI login: both variables or neither. */
export function checkWebLogin(raw: RawValues): ConfigProblem[] {
  const username = raw.TIDELINE_WEB_USERNAME;
  const password = raw.TIDELINE_WEB_PASSWORD;
  if (username !== undefined && password === undefined) {
    return [
      {
        variable: 'TIDELINE_WEB_PASSWORD',
        message: `is required with ${username.origin}: set both to protect the web UI with basic auth, or unset both`,
      },
    ];
  }
  if (password !== undefined && username === undefined) {
    return [
      {
        variable: 'TIDELINE_WEB_USERNAME',
        message: `is required with ${password.origin}: set both to protect the web UI with basic auth, or unset both`,
      },
    ];
  }
  // Basic auth sends `user:password` and the server splits at the first colon (RFC 7617), so a
  // name with a colon could never sign in; a colon in the password is fine.
  if (username?.value.includes(':') === true) {
    return [{ variable: username.origin, message: 'contains a colon, which basic auth cannot carry in a user name (RFC 7617): choose a name without `:`' }];
  }
  return [];
}
