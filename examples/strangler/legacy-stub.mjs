// Local stand-ins for the strangler example: the legacy application on :4201 and the new service on :4202.
// Search answers differ on purpose for some terms, so the shadow report has diffs to show.
import { createServer } from 'node:http';

const json = (res, body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const term = (url) => new URL(url, 'http://x').searchParams.get('q') ?? '';

createServer((req, res) => {
  if (req.url.startsWith('/api/search')) return json(res, { results: [term(req.url), 'legacy-extra'], took: Math.random() });
  json(res, { from: 'legacy', path: req.url });
}).listen(4201, '127.0.0.1', () => console.log('legacy on http://127.0.0.1:4201'));

createServer((req, res) => {
  if (req.url.startsWith('/api/search')) {
    const q = term(req.url);
    return json(res, { results: [q, q.startsWith('x') ? 'new-extra' : 'legacy-extra'], took: Math.random() });
  }
  json(res, { from: 'modern', path: req.url });
}).listen(4202, '127.0.0.1', () => console.log('modern on http://127.0.0.1:4202'));
