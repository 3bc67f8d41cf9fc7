// The server under benchmark, in a process of its own as in production (GitHub, here the
// double, lives in the bench process). Like main.ts, but bound to loopback on a free port, and
// it prints its URL. Client-side pacing of GitHub writes (plugin-throttling) is off unless
// BENCH_GITHUB_PACING=1: the double needs none, and the ratios measure the server's own work;
// the bench's `shippedWritePacing` row runs a second server with it on, as main.ts has it.

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
  githubThrottle: process.env['BENCH_GITHUB_PACING'] === '1',
  log: pino({ level: 'warn' }, pino.destination(2)),
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on('SIGTERM', () => {
  server.close(10_000).then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
