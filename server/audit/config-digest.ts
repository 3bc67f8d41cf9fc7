// The digest of the server config stamped on every audit record: which settings produced what
// the server did, without revealing a secret. Two settings that differ only in a secret give the
// same digest.

import { createHash } from 'node:crypto';
import type { Settings } from '../../config/settings.js';
import { canonicalJson } from './canonical-json.js';

/** sha256 (hex) of the canonical JSON of `redactedSettings(settings)`. */
export function configDigest(settings: Settings): string {
  return createHash('sha256').update(canonicalJson(redactedSettings(settings))).digest('hex');
}

/**
 * The settings with every secret removed: first the fields known to hold one (webhook secret,
 * GitHub token or App private key, API secret, web password, audit signing key and audit
 * webhook secret, the `secrets` list itself; child environment values are reduced to their
 * names), then — for any field added later without being listed here — every string that
 * contains a value of `settings.secrets` is dropped wherever it appears.
 */
export function redactedSettings(settings: Settings): unknown {
  const { webhookSecret: _webhookSecret, driftWebhookSecret, secrets, childEnv, github, apiSecret, web, audit, ...rest } = settings;
  const auth =
    github.auth.kind === 'token'
      ? { kind: 'token' }
      : { kind: 'app', appId: github.auth.appId, privateKeyFile: github.auth.privateKeyFile };
  const known = {
    ...rest,
    github: { apiUrl: github.apiUrl, auth },
    apiSecret: apiSecret === null ? null : 'set',
    driftWebhookSecret: driftWebhookSecret === null ? null : 'set',
    web: web === null ? null : { username: web.username },
    childEnv: Object.keys(childEnv).sort(),
    audit: {
      signingKeyFile: audit.signingKeyFile,
      webhook: audit.webhook === null ? null : { url: audit.webhook.url },
      retentionDays: audit.retentionDays,
    },
  };
  const needles = secrets.filter((secret) => secret !== '');
  return dropSecrets(known, needles);
}

function dropSecrets(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') {
    return secrets.some((secret) => value.includes(secret)) ? undefined : value;
  }
  if (Array.isArray(value)) {
    return value.map((item) => dropSecrets(item, secrets)).filter((item) => item !== undefined);
  }
  if (typeof value === 'object' && value !== null) {
    const entries: [string, unknown][] = [];
    for (const [key, item] of Object.entries(value)) {
      const kept = dropSecrets(item, secrets);
      if (kept !== undefined) entries.push([key, kept]);
    }
    return Object.fromEntries(entries);
  }
  return value;
}
