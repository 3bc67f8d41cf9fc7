// `owner/repo` globs for TIDELINE_REPO_ALLOWLIST. `*` matches any run of characters within one
// segment (never a `/`); matching ignores case, as GitHub does for owner and repository names.

const SEGMENT = /^[A-Za-z0-9_.*-]+$/;

/** Null when `glob` is a well-formed `owner/repo` glob, else "`glob`, which …: fix". */
export function repoGlobProblem(glob: string): string | null {
  const segments = glob.split('/');
  if (segments.length === 3 && (segments[0] ?? '').includes('.')) {
    return `\`${glob}\`, which names a host: drop it and write \`${segments.slice(1).join('/')}\``;
  }
  if (glob === '*' || glob === '**') {
    return `\`${glob}\`, which is not owner/repo: write \`*/*\` to allow every repository`;
  }
  if (segments.length !== 2 || !segments.every((segment) => SEGMENT.test(segment))) {
    return `\`${glob}\`, which is not an owner/repo glob: write it like \`acme/*\`, \`*/infra\` or \`acme/infra-*\` (letters, digits, -, _, . and *)`;
  }
  return null;
}

function segmentPattern(segment: string): string {
  return segment
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('[^/]*');
}

/** Whether `repoFullName` (`owner/repo`) matches any of `globs`. Malformed globs match nothing. */
export function allowlisted(repoFullName: string, globs: readonly string[]): boolean {
  const [owner, repo, extra] = repoFullName.split('/');
  if (owner === undefined || repo === undefined || extra !== undefined || owner === '' || repo === '') {
    return false;
  }
  for (const glob of globs) {
    if (repoGlobProblem(glob) !== null) {
      continue;
    }
    const [ownerGlob = '', repoGlob = ''] = glob.split('/');
    const pattern = new RegExp(`^${segmentPattern(ownerGlob)}/${segmentPattern(repoGlob)}$`, 'i');
    if (pattern.test(`${owner}/${repo}`)) {
      return true;
    }
  }
  return false;
}
