// Terraform workspace names, checked before one reaches a lock key, a plan file name or argv.

const MAX_LENGTH = 90;

/**
 * Null when `ws` is a usable workspace name, else the problem, worded to follow the name
 * (`workspace "a/b" may only contain …`): non-empty, at most 90 characters of A-Z a-z 0-9 _ - .,
 * and not `.` or `..`.
 */
export function validateWorkspaceName(ws: string): string | null {
  if (ws === '') {
    return 'is empty: give a workspace name, e.g. default';
  }
  if (ws.length > MAX_LENGTH) {
    return `is longer than ${MAX_LENGTH} characters: use a shorter workspace name`;
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(ws)) {
    return 'may only contain letters, digits, -, _ and . (no / or spaces): use a workspace name like staging or eu-west-1';
  }
  if (ws === '.' || ws === '..') {
    return 'is not a workspace name (. and .. name directories): use a workspace name like staging';
  }
  return null;
}
