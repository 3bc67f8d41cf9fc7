// An HTTP request with a Host header of the test's choosing. fetch() cannot send one (undici
// always writes the URL's own host), so this goes through node:http, which uses a given `host`
// header as it is. The connection still goes to the URL's loopback address.

import { request, type IncomingHttpHeaders } from 'node:http';

export interface HostResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HostRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export function requestWithHost(url: string, host: string, opts: HostRequest = {}): Promise<HostResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: { ...opts.headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
