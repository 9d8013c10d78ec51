// Token exchanges per second (workload identity federation, warm JWKS cache) vs certificate-assertion
// mints, both through the HTTP token endpoint of one server, in interleaved repetitions.
import { randomUUID } from 'node:crypto';
import { type ForeignIssuer, startForeignIssuer } from '../test/fixtures/oidc-issuer.js';
import { type Benchmark, type Measurement, median, repetitionsFor } from './harness.js';
import {
  assertions,
  FEDERATED_AUDIENCE,
  FEDERATED_SUBJECT,
  load,
  type ServerInfo,
  startServer,
  stopServer,
  type TokenServer,
  tokenForm,
} from './token-load.js';

/** Distinct foreign tokens, sent round-robin: a federated token may be presented again. */
const FOREIGN_TOKENS = 200;

/** Exchange forms for the server's federated identity, each with its own foreign token. */
async function exchangeForms(info: ServerInfo, issuer: ForeignIssuer): Promise<string[]> {
  const clientId = info.federatedClientId;
  if (clientId === undefined) throw new Error('federated-exchange: no federated identity');
  const forms: string[] = [];
  for (let i = 0; i < FOREIGN_TOKENS; i++) {
    const token = await issuer.token(FEDERATED_SUBJECT, {
      audience: [FEDERATED_AUDIENCE],
      edit: (_header, payload) => {
        payload.jti = randomUUID();
      },
    });
    forms.push(tokenForm(clientId, token));
  }
  return forms;
}

/** One exchange, so the server has fetched the issuer's discovery and JWKS before any load. */
async function warmKeys(info: ServerInfo, form: string): Promise<void> {
  const response = await fetch(`${info.url}/${info.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  if (response.status !== 200) {
    throw new Error(`federated-exchange: warm-up ${response.status} ${await response.text()}`);
  }
  await response.arrayBuffer();
}

export const benchmark: Benchmark = {
  name: 'token exchange via HTTP (workload identity federation, warm JWKS)',
  async run(options) {
    const seconds = options.smoke ? 1 : 5;
    const repetitions = repetitionsFor(options);
    const exchanges: Measurement[] = [];
    const mints: Measurement[] = [];
    const issuer = await startForeignIssuer();
    let server: TokenServer | undefined;
    try {
      server = await startServer('application', issuer);
      const { info } = server;
      const foreign = await exchangeForms(info, issuer);
      await warmKeys(info, foreign[0] ?? '');
      const exchange = async (): Promise<void> => {
        exchanges.push(await load(info, foreign, seconds, { reuse: true }));
      };
      const mint = async (): Promise<void> => {
        // Made before the load; one server for every run, so each run's jtis are new to it.
        const forms = await assertions(info, options.smoke ? 2_000 : 6_000 * seconds);
        mints.push(await load(info, forms, seconds));
      };
      for (let r = 0; r < repetitions; r++) {
        // Alternating which goes first, so drift in the machine's load favours neither.
        if (r % 2 === 0) await mint();
        await exchange();
        if (r % 2 === 1) await mint();
      }
    } finally {
      if (server !== undefined) await stopServer(server);
      await issuer.close();
    }
    const rates = (runs: Measurement[]): string =>
      runs.map((m) => m.opsPerSec.toFixed(0)).join(', ');
    process.stderr.write(
      `federated-exchange: exchanges ${rates(exchanges)}/s; certificate mints ${rates(mints)}/s\n`,
    );
    const baseline = median(mints, (m) => m.opsPerSec);
    return {
      name: this.name,
      subject: median(exchanges, (m) => m.opsPerSec),
      baselineName: 'certificate-assertion mint, same endpoint',
      baseline,
      absoluteTargets: [
        { name: 'certificate mint p50', value: baseline.p50Ms, unit: 'ms' },
        { name: 'p99', value: baseline.p99Ms, unit: 'ms' },
      ],
    };
  },
};
