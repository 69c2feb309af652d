// Berth's data service test app. It proves that the linked data service's
// variables authenticate: every GET /db logs in afresh with what the app got
// at boot (DATABASE_URL, MYSQL_URL or REDIS_URL), optionally appends a note
// (?write=), and answers every note stored. Node's standard library only:
// the Postgres (SCRAM-SHA-256), MySQL (mysql_native_password) and Redis
// (RESP, AUTH with an ACL user) clients are below.
'use strict';
const http = require('http');
const net = require('net');
const crypto = require('crypto');

const sha = (s) => crypto.createHash('sha256').update(s).digest('hex').slice(0, 12);
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

function target() {
  for (const [name, kind] of [['DATABASE_URL', 'postgres'], ['MYSQL_URL', 'mysql'], ['REDIS_URL', 'redis']]) {
    if (process.env[name]) {
      const u = new URL(process.env[name]);
      return { kind, via: name, host: u.hostname, port: Number(u.port),
        user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
        database: decodeURIComponent(u.pathname.slice(1)) };
    }
  }
  return null;
}

// A socket that hands out whole messages, as framed by frame(buf), which
// returns [message, rest] or null.
function conn(t, frame) {
  const sock = net.connect(t.port, t.host);
  let buf = Buffer.alloc(0), waiters = [], failed = null;
  const pump = () => {
    while (waiters.length) {
      const m = frame(buf);
      if (!m) break;
      buf = m[1];
      waiters.shift().resolve(m[0]);
    }
    if (failed) while (waiters.length) waiters.shift().reject(failed);
  };
  sock.on('data', (d) => { buf = Buffer.concat([buf, d]); pump(); });
  sock.on('error', (e) => { failed = e; pump(); });
  sock.on('close', () => { failed = failed || new Error('connection closed'); pump(); });
  sock.setTimeout(5000, () => sock.destroy(new Error('timeout')));
  return {
    next: () => new Promise((resolve, reject) => { waiters.push({ resolve, reject }); pump(); }),
    write: (b) => sock.write(b),
    close: () => sock.destroy(),
  };
}

// --- Postgres: startup, SCRAM-SHA-256, simple query.
async function postgres(t, write) {
  const c = conn(t, (b) => {
    if (b.length < 5) return null;
    const len = b.readInt32BE(1);
    return b.length < 1 + len ? null : [{ type: String.fromCharCode(b[0]), body: b.subarray(5, 1 + len) }, b.subarray(1 + len)];
  });
  const msg = (type, body) => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(body.length + 4);
    c.write(Buffer.concat([Buffer.from(type), len, body]));
  };
  const fail = (body) => new Error(body.toString().split('\0').filter((f) => f[0] === 'M').map((f) => f.slice(1)).join('') || 'error');
  try {
    const ver = Buffer.alloc(4);
    ver.writeInt32BE(196608);
    msg('', Buffer.concat([ver, Buffer.from(`user\0${t.user}\0database\0${t.database}\0\0`)]));
    const nonce = crypto.randomBytes(18).toString('base64');
    let first = '', serverSig = '';
    for (;;) {
      const m = await c.next();
      if (m.type === 'E') throw fail(m.body);
      if (m.type === 'Z') break;
      if (m.type !== 'R') continue;
      const code = m.body.readInt32BE(0);
      if (code === 10) {
        first = `n=,r=${nonce}`;
        const init = Buffer.from('n,,' + first), len = Buffer.alloc(4);
        len.writeInt32BE(init.length);
        msg('p', Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), len, init]));
      } else if (code === 11) {
        const server = m.body.subarray(4).toString();
        const a = Object.fromEntries(server.split(',').map((kv) => [kv[0], kv.slice(2)]));
        if (!a.r.startsWith(nonce)) throw new Error('the server changed the nonce');
        const salted = crypto.pbkdf2Sync(t.password, Buffer.from(a.s, 'base64'), Number(a.i), 32, 'sha256');
        const clientKey = hmac(salted, 'Client Key');
        const final = `c=biws,r=${a.r}`;
        const auth = `${first},${server},${final}`;
        const sig = hmac(crypto.createHash('sha256').update(clientKey).digest(), auth);
        const proof = Buffer.from(clientKey.map((x, i) => x ^ sig[i])).toString('base64');
        serverSig = hmac(hmac(salted, 'Server Key'), auth).toString('base64');
        msg('p', Buffer.from(`${final},p=${proof}`));
      } else if (code === 12) {
        if (m.body.subarray(4).toString() !== 'v=' + serverSig) throw new Error('the server did not prove it knows the password');
      } else if (code !== 0) {
        throw new Error('unsupported authentication ' + code);
      }
    }
    let sql = 'CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL);';
    if (write) sql += `INSERT INTO notes (body) VALUES ('${write}');`;
    sql += 'SELECT body FROM notes ORDER BY id';
    msg('Q', Buffer.from(sql + '\0'));
    const notes = [];
    let err = null;
    for (;;) {
      const m = await c.next();
      if (m.type === 'E') err = fail(m.body);
      if (m.type === 'D') notes.push(m.body.subarray(6, 6 + m.body.readInt32BE(2)).toString());
      if (m.type === 'Z') break;
    }
    if (err) throw err;
    return notes;
  } finally {
    c.close();
  }
}

// --- MySQL: handshake v10, mysql_native_password, COM_QUERY.
async function mysql(t, write) {
  const c = conn(t, (b) => {
    if (b.length < 4) return null;
    const len = b.readUIntLE(0, 3);
    return b.length < 4 + len ? null : [{ seq: b[3], body: b.subarray(4, 4 + len) }, b.subarray(4 + len)];
  });
  let seq = 0;
  const send = (body) => {
    const h = Buffer.alloc(4);
    h.writeUIntLE(body.length, 0, 3);
    h[3] = seq++ & 255;
    c.write(Buffer.concat([h, body]));
  };
  const sha1 = (b) => crypto.createHash('sha1').update(b).digest();
  const scramble = (seed) => {
    const p1 = sha1(Buffer.from(t.password)), p2 = sha1(Buffer.concat([seed, sha1(p1)]));
    return Buffer.from(p1.map((x, i) => x ^ p2[i]));
  };
  const failIf = (p) => { if (p[0] === 0xff) throw new Error(p.subarray(9).toString()); };
  const lenenc = (b, off) => {
    const f = b[off];
    if (f < 0xfb) return [f, off + 1];
    if (f === 0xfb) return [null, off + 1];
    if (f === 0xfc) return [b.readUInt16LE(off + 1), off + 3];
    if (f === 0xfd) return [b.readUIntLE(off + 1, 3), off + 4];
    return [Number(b.readBigUInt64LE(off + 1)), off + 9];
  };
  try {
    let m = await c.next();
    const h = m.body;
    failIf(h);
    let off = h.indexOf(0, 1) + 1 + 4;
    const seed1 = h.subarray(off, off + 8);
    off += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
    const seed = Buffer.concat([seed1, h.subarray(off, off + 12)]);
    seq = m.seq + 1;
    const caps = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000;
    const head = Buffer.alloc(32);
    head.writeUInt32LE(caps, 0);
    head.writeUInt32LE(1 << 24, 4);
    head[8] = 33;
    const auth = scramble(seed);
    send(Buffer.concat([head, Buffer.from(t.user + '\0'), Buffer.from([auth.length]), auth,
      Buffer.from(t.database + '\0'), Buffer.from('mysql_native_password\0')]));
    m = await c.next();
    if (m.body[0] === 0xfe) { // auth switch: answer the new seed
      const b = m.body, at = b.indexOf(0, 1) + 1;
      seq = m.seq + 1;
      send(scramble(b.subarray(at, at + 20)));
      m = await c.next();
    }
    failIf(m.body);
    const query = async (sql) => {
      seq = 0;
      send(Buffer.concat([Buffer.from([3]), Buffer.from(sql)]));
      let p = (await c.next()).body;
      failIf(p);
      if (p[0] === 0) return [];
      const [cols] = lenenc(p, 0);
      for (let i = 0; i < cols; i++) await c.next();
      await c.next(); // EOF
      const rows = [];
      for (;;) {
        p = (await c.next()).body;
        failIf(p);
        if (p[0] === 0xfe && p.length < 9) return rows;
        let at = 0;
        const row = [];
        for (let i = 0; i < cols; i++) {
          const [n, next] = lenenc(p, at);
          row.push(n === null ? null : p.subarray(next, next + n).toString());
          at = n === null ? next : next + n;
        }
        rows.push(row);
      }
    };
    await query('CREATE TABLE IF NOT EXISTS notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL)');
    if (write) await query(`INSERT INTO notes (body) VALUES ('${write}')`);
    return (await query('SELECT body FROM notes ORDER BY id')).map((r) => r[0]);
  } finally {
    c.close();
  }
}

// --- Redis: RESP, AUTH with the ACL user.
async function redis(t, write) {
  const parse = (b, off) => {
    const end = b.indexOf('\r\n', off);
    if (end < 0) return null;
    const type = String.fromCharCode(b[off]), line = b.subarray(off + 1, end).toString();
    if (type === '+' || type === ':') return [line, end + 2];
    if (type === '-') return [new Error(line), end + 2];
    const n = Number(line);
    if (type === '$') {
      if (n < 0) return [null, end + 2];
      return b.length < end + 2 + n + 2 ? null : [b.subarray(end + 2, end + 2 + n).toString(), end + 2 + n + 2];
    }
    const items = [];
    let at = end + 2;
    for (let i = 0; i < n; i++) {
      const r = parse(b, at);
      if (!r) return null;
      items.push(r[0]);
      at = r[1];
    }
    return [items, at];
  };
  const c = conn(t, (b) => {
    const r = b.length ? parse(b, 0) : null;
    return r ? [r[0], b.subarray(r[1])] : null;
  });
  const cmd = async (...args) => {
    c.write('*' + args.length + '\r\n' + args.map((a) => '$' + Buffer.byteLength(a) + '\r\n' + a + '\r\n').join(''));
    const r = await c.next();
    if (r instanceof Error) throw r;
    return r;
  };
  try {
    await cmd('AUTH', t.user, t.password);
    if (write) await cmd('RPUSH', 'notes', write);
    return await cmd('LRANGE', 'notes', '0', '-1');
  } finally {
    c.close();
  }
}

const clients = { postgres, mysql, redis };

http.createServer(async (req, res) => {
  const u = new URL(req.url, 'http://app');
  const reply = (status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (u.pathname === '/health') return reply(200, { ok: true });
  if (u.pathname !== '/db') return reply(404, { ok: false, error: 'not found' });
  const t = target();
  if (!t) return reply(503, { ok: false, error: 'no DATABASE_URL, MYSQL_URL or REDIS_URL' });
  const write = (u.searchParams.get('write') || '').replace(/[^a-z0-9-]/g, '');
  try {
    const notes = await clients[t.kind](t, write);
    reply(200, { ok: true, via: t.via, host: t.host, user: t.user, pw: sha(t.password), notes });
  } catch (e) {
    reply(503, { ok: false, via: t.via, pw: sha(t.password), error: String(e.message || e) });
  }
}).listen(Number(process.env.PORT || 3000), '0.0.0.0');
