// A flaky upstream for the circuit-breaker example on :4301. FAIL_RATE (0-1, default 0.7) of the answers are
// 500s; GET /toggle switches between failing and healthy so you can watch the breaker close again.
import { createServer } from 'node:http';

let failRate = Number(process.env.FAIL_RATE ?? 0.7);
createServer((req, res) => {
  if (req.url === '/toggle') {
    failRate = failRate > 0 ? 0 : 0.7;
    return res.end(`fail rate now ${failRate}\n`);
  }
  if (Math.random() < failRate) return res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sku: req.url, stock: 7 }));
}).listen(4301, '127.0.0.1', () => console.log('flaky inventory on http://127.0.0.1:4301'));
