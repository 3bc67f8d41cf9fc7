#!/usr/bin/env node
// The `tideline` command line (package `bin`): operator tools that run against the server's data
// directory. Needs only TIDELINE_DATA_DIR (and TIDELINE_AUDIT_SIGNING_KEY_FILE to sign
// checkpoints), read by `readCliEnv` — not the server's webhook secret or GitHub credentials.
// Exit codes: 0 ok, 1 verification failed, 2 usage or configuration error.

import { AUDIT_USAGE, EXIT, configExitMessage, isUsageError, runAuditCommand, type CliIo } from './audit/cli-audit.js';
import { AuditError } from './audit/errors.js';

const USAGE = `Usage: tideline <command> [options]

Commands:
${AUDIT_USAGE}
  tideline --help
      Print this help.

Environment: TIDELINE_DATA_DIR (default ./data), TIDELINE_CONFIG (the server's YAML file, for
data_dir and audit_signing_key_file), TIDELINE_AUDIT_SIGNING_KEY_FILE.
Exit status: 0 ok, 1 verification failed, 2 usage or configuration error, 70 internal error.
`;

async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  try {
    if (command === 'audit') {
      if (rest[0] === '--help' || rest[0] === '-h') {
        io.stdout.write(USAGE);
        return EXIT.ok;
      }
      return await runAuditCommand(rest, io);
    }
    io.stderr.write(`tideline: ${command === undefined ? 'a command is required' : `unknown command ${JSON.stringify(command)}`}\n\n${USAGE}`);
    return EXIT.usage;
  } catch (error: unknown) {
    if (isUsageError(error)) {
      io.stderr.write(`tideline: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
      return EXIT.usage;
    }
    const config = configExitMessage(error);
    if (config !== null) {
      io.stderr.write(`tideline: ${config}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

// No env given: config/ reads the process environment itself (the only place that does).
process.exitCode = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
}).catch((error: unknown) => {
  // Audit errors (an export whose destination closed, …) say what happened; anything else is a bug.
  const text = error instanceof AuditError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`tideline: ${text}\n`);
  return 70;
});
