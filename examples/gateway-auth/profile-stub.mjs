// A tiny upstream for the gateway-auth example: answers with the path and the Mia identity headers it got.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 4001);
createServer((req, res) => {
  const identity = Object.fromEntries(Object.entries(req.headers).filter(([k]) => /^(miauser|client-type|isbackoffice)/.test(k)));
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, identity }));
}).listen(port, '127.0.0.1', () => console.log(`profile stub on http://127.0.0.1:${port}`));
