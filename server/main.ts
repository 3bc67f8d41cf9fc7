// Process entry: read config, start the server, drain on SIGTERM. Composition only, no logic.

import { formatProblems, readCliEnv, readEnv } from '../config/read-env.js';
import { recordConfigError } from './audit/config-error.js';
import { serverFileConfigProblems } from './file-config.js';
import { startServer } from './server.js';
import { readVersion } from './version.js';

async function main(): Promise<void> {
  // The file's repo rules, clusters and drift sections are checked here too, so their problems
  // are not found only after every environment problem is fixed.
  const read = readEnv(undefined, { checkConfigFile: serverFileConfigProblems });
  if (!read.ok) {
    process.stderr.write(`tideline: cannot start\n${formatProblems(read.problems)}\n`);
    const cli = readCliEnv();
    if (cli.ok) recordConfigError({ dataDir: cli.settings.dataDir, version: readVersion(), problems: read.problems });
    process.exit(1);
  }
  const server = await startServer({ settings: read.settings });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'shutting down: finishing running jobs');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`tideline: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
