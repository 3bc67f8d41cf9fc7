import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';

const TOKEN = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a';

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

describe('SecretMasker', () => {
  it.each([
    { form: 'raw', text: `token ${TOKEN} used` },
    { form: 'base64', text: `blob ${base64(TOKEN)} end` },
    { form: 'base64 without padding', text: `blob ${base64('abcde').replace(/=+$/, '')} end` },
    { form: 'clone URL', text: `https://x-access-token:${TOKEN}@github.com/o/r.git` },
    { form: 'git basic auth header', text: `Authorization: Basic ${base64(`x-access-token:${TOKEN}`)}` },
  ])('masks the $form form of a secret', ({ text }) => {
    const masker = new SecretMasker();
    masker.add(TOKEN);
    masker.add('abcde');
    const masked = masker.mask(text);
    expect(masked).toContain('***');
    expect(masked).not.toContain(TOKEN);
    expect(masked).not.toContain(base64(TOKEN));
    expect(masked).not.toContain(base64('abcde').replace(/=+$/, ''));
  });

  it('masks the URL-encoded form of a secret with reserved characters', () => {
    const masker = new SecretMasker();
    masker.add('p@ss w/rd!');
    expect(masker.mask('https://u:p%40ss%20w%2Frd!@host/')).toBe('https://u:***@host/');
  });

  it('leaves text alone when nothing is registered', () => {
    const masker = new SecretMasker();
    expect(masker.mask('nothing to hide')).toBe('nothing to hide');
  });

  it.each(['', 'a', 'ab', 'abc'])('ignores the too-short secret %j', (secret) => {
    const masker = new SecretMasker();
    masker.add(secret);
    expect(masker.mask('abc abcd')).toBe('abc abcd');
  });

  it("masks each line of a PEM key, so a key printed across two chunks of lines is masked in both, and leaves short or spaced lines of a multi-line secret alone", () => {
    const body = ['MIIEowIBAAKCAQEAvR1rT6Vq0QZKx1m7m3yWb0b9Jr2mQ8i4f0', 'Zl1wq3nKcS8Hh5s2mXc9yT4uVb7r1Lp0qE6wZ3a9nC2kJ5dF8h'];
    const pem = ['-----BEGIN RSA PRIVATE KEY-----', ...body, '-----END RSA PRIVATE KEY-----', ''].join('\n');
    const masker = new SecretMasker();
    masker.add(pem);
    masker.add('{\n  "type": "service_account",\n  "k": "short"\n}');
    // How live output reaches the job page: whole lines, in chunks that may split the key.
    const chunks = [`key:\n-----BEGIN RSA PRIVATE KEY-----\n${body[0]}\n`, `${body[1]}\n-----END RSA PRIVATE KEY-----\n`];
    const shown = chunks.map((chunk) => masker.mask(chunk)).join('');
    for (const line of body) expect(shown).not.toContain(line);
    expect(masker.mask(pem)).toBe('***');
    expect(masker.mask('  "type": "service_account",\n}')).toBe('  "type": "service_account",\n}');
  });

  it('masks a secret of exactly four characters', () => {
    const masker = new SecretMasker();
    masker.add('abcd');
    expect(masker.mask('xabcdx')).toBe('x***x');
  });

  it('masks the longest secret whole when one contains another', () => {
    const masker = new SecretMasker();
    masker.add('abcd');
    masker.add('abcdefgh');
    expect(masker.mask('[abcdefgh] [abcd]')).toBe('[***] [***]');
  });

  it('treats regular-expression characters in a secret literally', () => {
    const masker = new SecretMasker();
    masker.add('a.b*c(d)|e$');
    expect(masker.mask('a.b*c(d)|e$ aXbbbc(d)|e$ a')).toBe('*** aXbbbc(d)|e$ a');
  });

  it('picks up secrets added after an earlier mask', () => {
    const masker = new SecretMasker();
    masker.add('first-secret');
    expect(masker.mask('first-secret second-secret')).toBe('*** second-secret');
    masker.add('second-secret');
    expect(masker.mask('first-secret second-secret')).toBe('*** ***');
  });

  it('masks a secret registered with a trailing newline where it appears trimmed', () => {
    const masker = new SecretMasker();
    masker.add('tok3n-from-file\n');
    expect(masker.mask('token=tok3n-from-file;')).toBe('token=***;');
  });

  it('masks every occurrence on repeated calls (no sticky lastIndex)', () => {
    const masker = new SecretMasker();
    masker.add('s3cr3t');
    for (let round = 0; round < 3; round += 1) {
      expect(masker.mask('s3cr3t s3cr3t\ns3cr3t')).toBe('*** ***\n***');
    }
  });

  it('masks megabytes of text with many secrets quickly', () => {
    const masker = new SecretMasker();
    const secrets = Array.from({ length: 50 }, (_, i) => `secret-value-${i}-${'x'.repeat(i)}`);
    for (const secret of secrets) masker.add(secret);
    const line = `ordinary log line with some words ${secrets[7]} and more words\n`;
    const text = line.repeat(Math.ceil((8 * 1024 * 1024) / line.length));
    const started = performance.now();
    const masked = masker.mask(text);
    const elapsedMs = performance.now() - started;
    expect(masked).not.toContain('secret-value-');
    expect(masked.split('***').length - 1).toBe(text.split(secrets[7] ?? '').length - 1);
    expect(elapsedMs).toBeLessThan(3_000);
  });
});
