// The sending side of the webhook intake benchmark, in a process of its own (GitHub is another
// machine): POSTs one signed body COUNT times with distinct delivery ids at fixed concurrency
// over keep-alive connections, and prints the acknowledgement latencies as JSON.
//
//   tsx bench/intake-load.ts <url> <body-file> <signature> <count> <concurrency>

import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

function post(agent: Agent, url: URL, body: Buffer, signature: string, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          'x-github-event': 'issue_comment',
          'x-github-delivery': id,
          'x-hub-signature-256': signature,
          'user-agent': 'GitHub-Hookshot/bench',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const [target, bodyFile, signature, countText, concurrencyText] = process.argv.slice(2);
  if (target === undefined || bodyFile === undefined || signature === undefined) throw new Error('usage: intake-load <url> <body-file> <signature> <count> <concurrency>');
  const url = new URL(target);
  const body = readFileSync(bodyFile);
  const count = Number(countText ?? 2000);
  const concurrency = Number(concurrencyText ?? 16);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  for (let i = 0; i < 50; i += 1) await post(agent, url, body, signature, `warm-${i}-${process.pid}`);
  const latencies: number[] = [];
  let refused = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next;
        next += 1;
        if (i >= count) return;
        const t0 = performance.now();
        const status = await post(agent, url, body, signature, `bench-${i}-${process.pid}`);
        latencies.push(performance.now() - t0);
        if (status >= 300) refused += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ count, concurrency, refused, seconds, latencies })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`intake-load failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
