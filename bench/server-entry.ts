// The server under benchmark, in a process of its own as in production (GitHub, here the
// double, lives in the bench process). Like main.ts, but bound to loopback on a free port,
// without client-side pacing of GitHub writes (the double needs none), and it prints its URL.

import { pino } from 'pino';
import { readEnv } from '../config/read-env.js';
import { startServer } from '../server/server.js';

const read = readEnv(process.env);
if (!read.ok) {
  process.stderr.write(`${JSON.stringify(read.problems)}\n`);
  process.exit(1);
}
const server = await startServer({
  settings: { ...read.settings, port: 0 },
  host: '127.0.0.1',
  githubThrottle: false,
  log: pino({ level: 'warn' }, pino.destination(2)),
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on('SIGTERM', () => {
  server.close(10_000).then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
