// receiver.mjs — a webhook receiver for apikeyd's tests. It verifies every delivery with the
// Standard Webhooks reference library (npm standardwebhooks) and records it for the test.
// Listens on 127.0.0.1 (port from argv[2], 0 = any) and prints {"port": N} on its first line.
// Control (JSON): POST /_control/endpoint {path, secret, statuses?: [..], location?} sets what
// a path verifies with and answers (statuses are used in turn, the last one then stays;
// location is sent with a 3xx); GET /_control/deliveries lists every request received:
// {path, id, timestamp, verified, error, answered, body}.
import http from 'node:http';
import { Webhook } from 'standardwebhooks';

const endpoints = new Map();
const deliveries = [];

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, obj, headers = {}) {
  const body = obj === undefined ? '' : JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

const server = http.createServer(async (req, res) => {
  const body = await readBody(req);
  const path = new URL(req.url, 'http://receiver').pathname;
  if (path === '/_control/endpoint' && req.method === 'POST') {
    const cfg = JSON.parse(body);
    endpoints.set(cfg.path, { secret: cfg.secret, statuses: cfg.statuses || [200],
      location: cfg.location || null });
    return send(res, 204);
  }
  if (path === '/_control/deliveries' && req.method === 'GET') {
    return send(res, 200, { deliveries });
  }
  const ep = endpoints.get(path);
  const record = { path, method: req.method, id: req.headers['webhook-id'] || null,
    timestamp: req.headers['webhook-timestamp'] || null, verified: false, error: null,
    answered: 404, body, content_type: req.headers['content-type'] || null };
  if (ep) {
    try {
      new Webhook(ep.secret).verify(body, req.headers);
      record.verified = true;
    } catch (err) {
      record.error = String(err && err.message || err);
    }
    record.answered = ep.statuses.length > 1 ? ep.statuses.shift() : ep.statuses[0];
  }
  deliveries.push(record);
  const headers = ep && ep.location && record.answered >= 300 && record.answered < 400
    ? { location: ep.location } : {};
  send(res, record.answered, { ok: record.answered < 300 }, headers);
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
