// The baseline for bench/api/run.mjs: a bare Fastify server with one trivial route, run as its
// own process so it does not share an event loop with the load generator. It listens on a free
// loopback port and prints `listening <url>` on stdout once it is ready.
import Fastify from 'fastify';

const app = Fastify({ logger: false });

app.get('/hello', async () => ({ hello: 'world' }));

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${address}\n`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// If the parent dies without signalling, do not linger.
process.on('disconnect', stop);
