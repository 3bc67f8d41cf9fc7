// Terraform's refresh chatter: the lines a reviewer never needs and a drift fingerprint must
// ignore. One list, used by the workflow's `strip_refreshing`, the PR comments and drift.

/** Refresh and data-source read lines, and the Terraform 0.12–0.14 refresh banner. */
const REFRESH_NOISE: readonly RegExp[] = [
  /Refreshing state\.\.\./,
  /: Reading\.\.\./,
  /: Still reading\.\.\./,
  /: Read complete after /,
  /^Refreshing Terraform state in-memory prior to plan\.\.\.$/,
  /^The refreshed state will be used to calculate this plan, but will not be$/,
  /^persisted to local or remote state storage\.$/,
];

export function isRefreshNoise(line: string): boolean {
  return REFRESH_NOISE.some((re) => re.test(line));
}

/** Drops the refresh lines and the blank lines they leave at the top. */
export function stripRefreshing(output: string): string {
  const kept = output.split('\n').filter((line) => !isRefreshNoise(line));
  while (kept.length > 1 && (kept[0] ?? '').trim() === '') kept.shift();
  return kept.join('\n');
}
