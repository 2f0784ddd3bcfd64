// A tiny upstream for the gateway-auth example: answers with the path and the Mia identity headers it got,
// and plays the user-info endpoint (GET /userinfo) for the opaque token `opaque-ada` or the cookie `sid=s-ada`.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 4001);
createServer((req, res) => {
  if (req.url === '/userinfo') {
    const known = req.headers.authorization === 'Bearer opaque-ada' || req.headers.cookie === 'sid=s-ada';
    if (!known) return res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unknown session"}');
    return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: 'ada', groups: ['editor'], tier: 'gold' }));
  }
  const identity = Object.fromEntries(Object.entries(req.headers).filter(([k]) => /^(miauser|client-type|isbackoffice)/.test(k)));
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, identity }));
}).listen(port, '127.0.0.1', () => console.log(`profile stub on http://127.0.0.1:${port}`));
