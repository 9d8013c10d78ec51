// Child process of the IMDS benchmark: the ceiling. A bare `node:http` server answering every
// request with the status, header list and body given as JSON in argv[2] (captured from a cached
// IMDS token answer), written the way IMDS writes its answers (`writeHead` with a flat header
// list, then `end` with the body string). Prints one JSON line; runs until SIGTERM or until its
// stdin closes.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const { status, headers, body } = JSON.parse(process.argv[2] ?? '') as {
  status: number;
  headers: string[];
  body: string;
};
const server = createServer((_req, res) => {
  res.writeHead(status, headers).end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.once('end', stop);
process.stdin.resume();
