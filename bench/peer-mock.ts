// Child process of the peer benchmark: oauth2-mock-server (a widely used OAuth 2 test server,
// not ours) over plain HTTP on 127.0.0.1 with one RS256 key. Its token route signs a new JWT for
// every request, as a real issuer does. Prints one JSON line; runs until SIGTERM or stdin closes.
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ url: server.issuer.url })}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void server.stop().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.once('end', stop);
