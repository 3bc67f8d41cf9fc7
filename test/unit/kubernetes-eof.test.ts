import { describe, expect, it } from 'vitest';
import { ExecError } from '../../runners/exec.js';
import { EOF_HINT, failureText, type KubectlCall } from '../../runners/kubernetes-kubectl.js';
import { SecretMasker } from '../../runners/secrets.js';

const call = { bin: 'kubectl', exec: { baseEnv: {}, masker: new SecretMasker() }, session: { runDir: '/tmp/run' }, projectDir: '/p', kubeconfig: null, requestTimeout: null, env: {} } as unknown as KubectlCall;

function failure(stderr: string): ExecError {
  return new ExecError('kubectl failed', { command: 'kubectl get', exitCode: 1, signal: null, stdout: '', stderr, output: stderr, timedOut: false, outputCapped: false, durationMs: 5 });
}

describe('kubectl failure text', () => {
  it('explains the bare `error: EOF` of a kubeconfig user without credentials', () => {
    expect(failureText(call, 'get', failure('error: EOF\n'), 1000)).toContain(EOF_HINT);
  });
  it('adds nothing to other errors', () => {
    expect(failureText(call, 'get', failure('error: the server doesn\'t have a resource type "widgets"\n'), 1000)).not.toContain(EOF_HINT);
  });
});
