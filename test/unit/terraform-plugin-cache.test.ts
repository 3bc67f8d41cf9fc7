// The shared provider plugin cache: real terraform installs a provider once (from a filesystem
// mirror made here, so nothing is downloaded) and links every later working tree to it; inits
// that share the cache run one at a time; the server's choice of cache directory.
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { terraformPluginCacheDir } from '../../config/child-env.js';
import { SecretMasker } from '../../runners/secrets.js';
import { TerraformRunner } from '../../runners/terraform.js';
import type { RunContext } from '../../runners/types.js';

const PROVIDER = 'example.com/acme/fake';

let tmp = '';

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'tideline-plugin-cache-'));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function runner(bin: string, env: Record<string, string>, pluginCacheDir?: string): TerraformRunner {
  const baseEnv = { PATH: process.env.PATH ?? '', HOME: tmp, ...env };
  return new TerraformRunner({ bin, exec: { baseEnv, masker: new SecretMasker() }, ...(pluginCacheDir === undefined ? {} : { pluginCacheDir }) });
}

function run(projectDir: string): RunContext {
  return { projectDir, workspace: 'default', extraArgs: [] };
}

describe('the plugin cache with the real terraform', () => {
  /** A CLI config that installs PROVIDER from a mirror of one fake build, and a project using it. */
  async function mirrorAndProjects(names: string[]): Promise<{ cliConfig: string; dirs: string[] }> {
    const build = path.join(tmp, 'mirror', PROVIDER, '1.0.0', 'linux_amd64');
    await mkdir(build, { recursive: true });
    await writeFile(path.join(build, 'terraform-provider-fake_v1.0.0'), '#!/bin/sh\nexit 1\n');
    await chmod(path.join(build, 'terraform-provider-fake_v1.0.0'), 0o755);
    const cliConfig = path.join(tmp, 'cli.tfrc');
    await writeFile(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(path.join(tmp, 'mirror'))}\n  }\n}\n`);
    const dirs: string[] = [];
    for (const name of names) {
      const dir = path.join(tmp, name);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'main.tf'), `terraform {\n  required_providers {\n    fake = { source = "${PROVIDER}" }\n  }\n}\n`);
      dirs.push(dir);
    }
    return { cliConfig, dirs };
  }

  it('installs a provider once and links the next working tree to it', async () => {
    const { cliConfig, dirs } = await mirrorAndProjects(['pr-1', 'pr-2', 'pr-3']);
    const [first = '', second = '', third = ''] = dirs;
    const cache = path.join(tmp, 'plugin-cache');
    await mkdir(cache);
    const tf = runner('terraform', { TF_CLI_CONFIG_FILE: cliConfig }, cache);

    const installed = await tf.init(run(first), []);
    expect(installed.ok).toBe(true);
    expect(installed.output).toContain(`Installed ${PROVIDER} v1.0.0`);
    const cached = path.join(cache, PROVIDER, '1.0.0', 'linux_amd64');
    expect((await lstat(path.join(cached, 'terraform-provider-fake_v1.0.0'))).isFile()).toBe(true);

    // The repository commits its lock file, so the second tree has it (terraform then trusts the cache).
    await writeFile(path.join(second, '.terraform.lock.hcl'), await readFile(path.join(first, '.terraform.lock.hcl'), 'utf8'));
    const linked = await tf.init(run(second), []);
    expect(linked.ok).toBe(true);
    expect(linked.output).toContain(`Using ${PROVIDER} v1.0.0 from the shared cache directory`);
    expect(await readlink(path.join(second, '.terraform', 'providers', PROVIDER, '1.0.0', 'linux_amd64'))).toBe(cached);

    // A cached build changed since (by a plan's program, say) no longer matches the lock file.
    await writeFile(path.join(cached, 'terraform-provider-fake_v1.0.0'), '#!/bin/sh\necho tampered\n');
    await writeFile(path.join(third, '.terraform.lock.hcl'), await readFile(path.join(first, '.terraform.lock.hcl'), 'utf8'));
    const refused = await tf.init(run(third), []);
    expect(refused.ok).toBe(false);
    expect(refused.output).toContain("doesn't match any of the checksums");
  });

  it('without a cache, each working tree gets a copy of its own', async () => {
    const { cliConfig, dirs } = await mirrorAndProjects(['pr-1']);
    const [only = ''] = dirs;
    const tf = runner('terraform', { TF_CLI_CONFIG_FILE: cliConfig });
    const installed = await tf.init(run(only), []);
    expect(installed.ok).toBe(true);
    expect(installed.output).not.toContain('shared cache');
    // Terraform links an unpacked mirror's build in place; nothing points at a cache.
    expect(await readlink(path.join(only, '.terraform', 'providers', PROVIDER, '1.0.0', 'linux_amd64'))).toBe(path.join(tmp, 'mirror', PROVIDER, '1.0.0', 'linux_amd64'));
  });
});

describe('inits that share the plugin cache', () => {
  /**
   * A stand-in terraform whose init takes 150 ms and logs when it starts and ends, and whose
   * plan logs the same; the log shows which calls overlapped.
   */
  async function slowTerraform(): Promise<string> {
    const bin = path.join(tmp, 'slow-terraform');
    const log = path.join(tmp, 'calls.log');
    await writeFile(bin, `#!/bin/sh\necho "start $1 $TF_PLUGIN_CACHE_DIR" >> "${log}"\nsleep 0.15\necho "end $1" >> "${log}"\n`);
    await chmod(bin, 0o755);
    return bin;
  }

  /** The largest number of `step` calls (any call, for '') running at once, read from the log. */
  async function mostAtOnce(step: string): Promise<number> {
    let running = 0;
    let most = 0;
    for (const line of (await readFile(path.join(tmp, 'calls.log'), 'utf8')).trim().split('\n')) {
      if (line.startsWith(`start ${step}`)) most = Math.max(most, (running += 1));
      if (line.startsWith(`end ${step}`)) running -= 1;
    }
    return most;
  }

  async function planThree(tf: TerraformRunner): Promise<void> {
    const dirs = ['a', 'b', 'c'].map((name) => path.join(tmp, name));
    for (const dir of dirs) await mkdir(dir, { recursive: true });
    const outcomes = await Promise.all(dirs.map((dir) => tf.plan(run(dir), 'p.tfplan')));
    expect(outcomes.map((o) => o.result)).toEqual(['no-changes', 'no-changes', 'no-changes']);
  }

  it('runs one init at a time with the cache, and gives every call the cache dir', async () => {
    const cache = path.join(tmp, 'plugin-cache');
    await planThree(runner(await slowTerraform(), {}, cache));
    expect(await mostAtOnce('init')).toBe(1);
    // A plan does not wait for the inits of other projects: it runs beside the next one.
    expect(await mostAtOnce('')).toBeGreaterThan(1);
    const starts = (await readFile(path.join(tmp, 'calls.log'), 'utf8')).split('\n').filter((l) => l.startsWith('start'));
    expect(starts.every((l) => l.endsWith(` ${cache}`))).toBe(true);
  });

  it('lets inits run side by side without one', async () => {
    await planThree(runner(await slowTerraform(), {}));
    expect(await mostAtOnce('init')).toBeGreaterThan(1);
  });
});

describe('terraformPluginCacheDir', () => {
  it('is <data dir>/plugin-cache by default, the operator\'s dir when set, and none when set empty', () => {
    expect(terraformPluginCacheDir({}, '/var/tideline')).toBe('/var/tideline/plugin-cache');
    expect(terraformPluginCacheDir({}, 'data')).toBe(path.resolve('data', 'plugin-cache'));
    expect(terraformPluginCacheDir({ TF_PLUGIN_CACHE_DIR: '/srv/tf-plugins' }, '/var/tideline')).toBe('/srv/tf-plugins');
    expect(terraformPluginCacheDir({ TF_PLUGIN_CACHE_DIR: 'plugins' }, '/var/tideline')).toBe(path.resolve('plugins'));
    expect(terraformPluginCacheDir({ TF_PLUGIN_CACHE_DIR: '' }, '/var/tideline')).toBeNull();
  });
});
