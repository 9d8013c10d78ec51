// The `tessera` command: the CLI composed with the server it starts. The one module joining src/cli and src/server.
import { runCli } from './cli/run.js';
import { launchServer } from './server/launch.js';

await runCli(process.argv, { launchServer });
