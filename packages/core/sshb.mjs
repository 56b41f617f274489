import ssh2 from 'ssh2';
import net from 'node:net';
const { Server, Client, utils } = ssh2;
function key() { for (;;) { const p = utils.generateKeyPairSync('ed25519'); if (!(utils.parseKey(p.private) instanceof Error)) return p; } }
const host = key(), user = key();
const sink = net.createServer((s) => s.resume()).listen(0, '127.0.0.1');
await new Promise((r) => sink.once('listening', r));
const srv = new Server({ hostKeys: [host.private] }, (c) => {
  c.on('authentication', (ctx) => ctx.accept());
  c.on('ready', () => c.on('tcpip', (accept, _r, info) => { const s = net.connect(info.destPort, info.destIP, () => { const ch = accept(); ch.pipe(s); }); }));
}).listen(0, '127.0.0.1');
await new Promise((r) => srv.once('listening', r));
const client = new Client();
await new Promise((r) => { client.once('ready', r); client.connect({ host: '127.0.0.1', port: srv.address().port, username: 'x', privateKey: user.private }); });
const ch = await new Promise((r, j) => client.forwardOut('127.0.0.1', 1, '127.0.0.1', sink.address().port, (e, c) => e ? j(e) : r(c)));
const chunk = Buffer.alloc(64 * 1024, 7); const total = 512 * 1024 * 1024; let sent = 0;
const t0 = performance.now(); const c0 = process.cpuUsage();
await new Promise((resolve) => { const pump = () => { while (sent < total) { sent += chunk.length; if (!ch.write(chunk)) return ch.once('drain', pump); } ch.end(); resolve(); }; pump(); });
await new Promise((r) => ch.on('close', r));
const ms = performance.now() - t0; const cpu = process.cpuUsage(c0);
console.log(process.env.LABEL, (total / 1048576 / (ms / 1000)).toFixed(0), 'MB/s', ((cpu.user + cpu.system) / 1e6 / (total / 2 ** 30)).toFixed(2), 'cpu s/GiB (one process: client+server)');
process.exit(0);
