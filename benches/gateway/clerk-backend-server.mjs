// The same check as `clerk-verify serve`'s /auth, through Clerk's JavaScript SDK: the bearer
// token verified with @clerk/backend's verifyToken and a networkless jwtKey (PEM).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { verifyToken } from '@clerk/backend';

const jwtKey = readFileSync(process.env.JWT_KEY_FILE, 'utf8');
const port = Number(process.env.PORT);

createServer(async (req, res) => {
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : '';
  try {
    const claims = await verifyToken(token, { jwtKey });
    const h = { 'x-clerk-user-id': claims.sub, 'x-clerk-auth-status': 'signed-in', 'cache-control': 'no-store' };
    if (claims.sid) h['x-clerk-session-id'] = claims.sid;
    res.writeHead(200, h).end();
  } catch (e) {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' })
      .end(JSON.stringify({ error: 'unauthorized', reason: e.reason ?? 'token-invalid' }));
  }
}).listen(port, '127.0.0.1', () => console.error(`listening on 127.0.0.1:${port}`));
