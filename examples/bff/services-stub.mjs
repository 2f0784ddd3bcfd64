// Two small upstreams for the bff example: customers on :4101, payments on :4102.
// PAYMENTS_DOWN=1 makes payments fail, to see a partial answer (x-mia-completed: false).
import { createServer } from 'node:http';

const json = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

createServer((req, res) => {
  const id = req.url.split('/').pop();
  json(res, 200, { id, name: `Customer ${id}`, email: `${id}@example.com`, internalScore: 42 });
}).listen(4101, '127.0.0.1', () => console.log('customers on http://127.0.0.1:4101'));

createServer((req, res) => {
  if (process.env.PAYMENTS_DOWN === '1') return json(res, 503, { code: 'DOWN' });
  json(res, 200, [{ orderId: req.url.split('/').pop(), amount: 10, status: 'captured' }]);
}).listen(4102, '127.0.0.1', () => console.log('payments on http://127.0.0.1:4102'));
