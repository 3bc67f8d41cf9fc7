// GET /metrics: the Prometheus exposition of one server's registry. Labels carry no repository,
// user or secret, so the route is unauthenticated like other exporters; keep it off the public
// internet with the network policy or proxy that fronts the server.

import type { Request, RequestHandler, Response } from 'express';
import type { Metrics } from '../metrics/index.js';

export function metricsRoute(metrics: Metrics): RequestHandler {
  return async function serveMetrics(_req: Request, res: Response): Promise<void> {
    try {
      const body = await metrics.text();
      res.status(200).setHeader('Content-Type', metrics.registry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send(body);
    } catch {
      // The route is unauthenticated: say nothing of why (the store closing, most likely).
      res.status(503).type('text/plain').send('# metrics are unavailable right now\n');
    }
  };
}
