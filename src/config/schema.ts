// The one configuration schema of every Tessera process, and the key paths and env names it defines.
import { z } from 'zod';

/** What the loader knows about a leaf beyond its zod type. */
export interface LeafMeta {
  /** How an error message describes a valid value ("an http:// or https:// URL"). */
  readonly expected?: string;
  /** Never echo the value in an error: it is key material or may contain a password. */
  readonly secret?: boolean;
}

/** Annotations on leaf schemas, read by {@link configLeaves}. */
export const leafMeta = z.registry<LeafMeta>();

function leaf<T extends z.ZodType>(schema: T, meta: LeafMeta): T {
  leafMeta.add(schema, meta);
  return schema;
}

const MASTER_KEY_BYTES = 32;
const STANDARD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const URL_SAFE_BASE64 = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Decodes a master key given as base64 (standard or url-safe, padding optional). Returns
 * `undefined` unless `text` is the canonical encoding of exactly 32 bytes, so a truncated or
 * mistyped key is rejected rather than silently decoded to other bytes.
 */
export function decodeMasterKey(text: string): Buffer | undefined {
  if (!STANDARD_BASE64.test(text) && !URL_SAFE_BASE64.test(text)) return undefined;
  const key = Buffer.from(text, 'base64');
  const canonical = (s: string): string =>
    s.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (key.length !== MASTER_KEY_BYTES || canonical(key.toString('base64')) !== canonical(text)) {
    return undefined;
  }
  return key;
}

const nonEmpty = (expected: string): z.ZodString => leaf(z.string().min(1), { expected });
const httpUrl = (): z.ZodURL =>
  leaf(z.url({ protocol: /^https?$/ }), { expected: 'an http:// or https:// URL' });
const port = (): z.ZodNumber => z.int().min(0).max(65535);

/** The most server URLs an agent may be given. */
const MAX_SERVER_URLS = 16;

/**
 * The entries of a list setting given as one string (`a,b`): split at commas, trimmed, empty
 * entries dropped. Anything else (a list from a config file) is returned as it is.
 */
export function splitList(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** One http(s) URL or several: a list in a config file, or comma-separated in one string. */
const httpUrls = () =>
  leaf(z.preprocess(splitList, z.array(httpUrl()).min(1).max(MAX_SERVER_URLS)), {
    expected: `an http:// or https:// URL, or up to ${MAX_SERVER_URLS} separated by commas`,
  });

/** Log levels, as pino names them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Store backends. */
export const STORE_DRIVERS = ['sqlite', 'postgres'] as const;

const logSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default('info'),
});

const sqliteSchema = z.strictObject({
  /** Defaults to `<dataDir>/tessera.db`; filled in by the loader. */
  file: nonEmpty('a non-empty file path').optional(),
  busyTimeoutMs: z.int().min(0).default(5000),
});

const postgresSchema = z.strictObject({
  url: leaf(z.string().regex(/^postgres(ql)?:\/\/./), {
    expected: 'a URL starting with postgres:// or postgresql://',
    secret: true,
  }).optional(),
  schema: leaf(z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/), {
    expected: 'a schema name matching /^[a-z_][a-z0-9_]{0,62}$/',
  }).default('public'),
  poolMax: z.int().min(1).max(100).default(10),
});

const storeSchema = z
  .strictObject({
    driver: z.enum(STORE_DRIVERS).default('sqlite'),
    sqlite: sqliteSchema.prefault({}),
    postgres: postgresSchema.prefault({}),
  })
  .superRefine((store, ctx) => {
    if (store.driver === 'postgres' && store.postgres.url === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['postgres', 'url'],
        message: 'is required when store.driver is "postgres"',
      });
    }
  });

const tlsSchema = z
  .strictObject({
    certFile: nonEmpty('a non-empty file path').optional(),
    keyFile: nonEmpty('a non-empty file path').optional(),
  })
  .superRefine((tls, ctx) => {
    if (tls.certFile !== undefined && tls.keyFile === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['keyFile'],
        message: 'is required when server.tls.certFile is set',
      });
    }
    if (tls.keyFile !== undefined && tls.certFile === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['certFile'],
        message: 'is required when server.tls.keyFile is set',
      });
    }
  });

const tokensSchema = z.strictObject({
  /** Access-token lifetime; Azure's managed-identity tokens live 86,700 s (PROTOCOL.md 5.2). */
  lifetimeSeconds: z.int().min(300).max(172_800).default(86_700),
  /** The `iss` of access tokens; `{tenantId}` is replaced. Default `{publicUrl}/{tenantId}/`. */
  issuer: leaf(z.string().regex(/^https?:\/\/.*\{tenantId\}/), {
    expected: 'an http:// or https:// URL containing {tenantId}',
  }).optional(),
  /** How long a signing key signs before the next takes over. */
  signingKeyRotationDays: z.int().min(1).max(3650).default(30),
  /** How long a new signing key is published before it signs (validators' JWKS cache period). */
  signingKeyPublishLeadHours: z
    .int()
    .min(0)
    .max(24 * 30)
    .default(24),
  /** Failed client secrets allowed per window before attempts are refused (429, Retry-After). */
  secretFailures: z
    .strictObject({
      windowSeconds: z.int().min(1).max(86_400).default(60),
      /** Per client id (application). */
      perClient: z.int().min(1).max(1_000_000).default(10),
      /** Per source address, whichever client ids it tries. */
      perSource: z.int().min(1).max(1_000_000).default(30),
    })
    .prefault({}),
});

const directorySchema = z.strictObject({
  /** Lifetime of certificates the directory's CA issues to identities. */
  certificateLifetimeDays: z.int().min(1).max(365).default(7),
});

const keyVaultSchema = z.strictObject({
  /**
   * Vaults answer at `{vault}.{dnsSuffix}` on the server's port(s); tokens for them carry
   * `aud` `https://{dnsSuffix}[:{port}]`. `vault.azure.net` also lets private DNS point Azure's names here.
   */
  dnsSuffix: leaf(
    z
      .string()
      .regex(
        /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/,
      ),
    { expected: 'a lower-case DNS name of two or more labels, e.g. vault.localhost' },
  ).default('vault.localhost'),
  /** How long a deleted secret can be recovered before it is purged (Key Vault: 7-90 days). */
  softDeleteRetentionDays: z.int().min(7).max(90).default(90),
});

/** The audit log: how long it keeps events, and how repeated refusals are counted. */
const auditSchema = z.strictObject({
  retention: z
    .strictObject({
      /** Events older than this are deleted (a sweep every minute). */
      maxAgeDays: z.int().min(1).max(36_500).default(30),
      /** At most this many of the newest events are kept. */
      maxRows: z.int().min(1000).max(1_000_000_000).default(1_000_000),
    })
    .prefault({}),
  /** Repeated refusals of one reason from one source: the first is a row, then one per window. */
  refusalWindowSeconds: z.int().min(1).max(3600).default(60),
});

/** Workload identity federation: which foreign OIDC issuers the token endpoint may fetch keys from. */
const federationSchema = z.strictObject({
  /** Issuers on loopback addresses, over https or http. Default: on under `tessera up` only. */
  allowLoopbackIssuers: z.boolean().optional(),
  /** Issuers on private networks (RFC 1918, IPv6 unique-local, carrier-grade NAT). */
  allowPrivateIssuers: z.boolean().default(false),
  /** A PEM file of CA certificates to trust for issuers, besides the system's. */
  caFile: nonEmpty('a non-empty file path').optional(),
});

const serverSchema = z.strictObject({
  host: nonEmpty('a host name or IP address').default('127.0.0.1'),
  port: port().default(8443),
  /** The extra HTTPS listener of `tessera up` (local CA), next to HTTP on `port`. */
  httpsPort: port().default(8444),
  tls: tlsSchema.prefault({}),
  tokens: tokensSchema.prefault({}),
  directory: directorySchema.prefault({}),
  keyVault: keyVaultSchema.prefault({}),
  federation: federationSchema.prefault({}),
});

const rateLimitSchema = z.strictObject({
  /** `off` turns throttling off (benchmarks, load tests); `TESSERA_IMDS_RATE_LIMIT=off` too. */
  mode: z.enum(['on', 'off']).default('on'),
  /** Identity requests per second per VM (Azure: 20). */
  identityPerSecond: z.int().min(1).max(1_000_000).default(20),
  /** Identity requests in flight per VM (Azure: 5). */
  identityConcurrent: z.int().min(1).max(100_000).default(5),
  /** Other metadata requests per second per VM (Azure: 5). */
  otherPerSecond: z.int().min(1).max(1_000_000).default(5),
});

/** IMDS connection caps and timeouts (docs/compatibility.md, "IMDS connection limits"). */
const imdsConnectionsSchema = z
  .strictObject({
    /** Connections open at once from one source address, i.e. one VM (Azure documents none). */
    perAddress: z.int().min(1).max(1_000_000).default(64),
    /** Connections open at once in all; 0 derives it from the process's open-file limit. */
    max: leaf(z.int().min(0).max(10_000_000), {
      expected:
        '0, or an integer up to 10000000 and at least twice agent.imds.connections.perAddress',
    }).default(0),
    /** Time to send a request's headers; a connection silent that long is closed too. */
    headersTimeoutMs: z.int().min(100).max(600_000).default(5_000),
    /** Time to send a whole request; at least `headersTimeoutMs`. */
    requestTimeoutMs: leaf(z.int().min(100).max(600_000), {
      expected:
        'an integer between 100 and 600000, at least agent.imds.connections.headersTimeoutMs',
    }).default(10_000),
    /** How long an idle kept-alive connection stays open after a response. */
    keepAliveTimeoutMs: z.int().min(100).max(600_000).default(5_000),
    /** A connection with no traffic either way for this long is closed. */
    idleTimeoutMs: z.int().min(1_000).max(3_600_000).default(60_000),
  })
  .superRefine((c, ctx) => {
    if (c.requestTimeoutMs < c.headersTimeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['requestTimeoutMs'],
        message: 'must be at least agent.imds.connections.headersTimeoutMs',
      });
    }
    if (c.max !== 0 && c.max < 2 * c.perAddress) {
      ctx.addIssue({
        code: 'custom',
        path: ['max'],
        message: 'must be 0 or at least twice agent.imds.connections.perAddress',
      });
    }
  });

const agentSchema = z.strictObject({
  /** The server, or its replicas in order of preference (the agent fails over between them). */
  serverUrl: httpUrls().optional(),
  /** The one-time join token an operator created for this host (`tessera host create`). */
  joinToken: leaf(z.string().min(16).max(512), {
    expected: 'a join token (16-512 characters)',
    secret: true,
  }).optional(),
  /** A PEM file of CA certificates to trust for `serverUrl` (besides the system's). */
  caFile: nonEmpty('a non-empty file path').optional(),
  /** Keep identity keys sealed on disk under the host key, so a restart needs no server. */
  sealKeys: z.boolean().default(false),
  imds: z
    .strictObject({
      host: nonEmpty('a host name or IP address').default('127.0.0.1'),
      port: port().default(8080),
      rateLimit: rateLimitSchema.prefault({}),
      connections: imdsConnectionsSchema.prefault({}),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      host: nonEmpty('a host name or IP address').default('127.0.0.1'),
      port: port().default(9464),
    })
    .prefault({}),
  /** The host side of the VMs' network, made (idempotently) when the agent starts. */
  network: z
    .strictObject({
      /** A bridge to carry 169.254.169.254 (`tessera agent network up`); absent: none is made. */
      bridge: leaf(z.string().regex(/^[a-zA-Z0-9_.-]{1,15}$/), {
        expected: 'an interface name of 1-15 letters, digits, _ . -',
      }).optional(),
      /** Install the nftables anti-spoofing rules with the bridge. */
      antiSpoofing: z.boolean().default(false),
    })
    .prefault({}),
});

/**
 * The configuration of every Tessera process. Objects are strict, so an unknown key fails; nested
 * sections use `prefault({})` so their own defaults apply when a section is absent. To add a key,
 * add it to its section: its environment variable and error messages follow from the schema.
 */
export const configSchema = z.strictObject({
  dataDir: nonEmpty('a non-empty directory path').default('./.tessera'),
  masterKey: leaf(
    z.string().refine((s) => decodeMasterKey(s) !== undefined),
    {
      expected: 'base64 (standard or url-safe) of exactly 32 bytes',
      secret: true,
    },
  ).optional(),
  publicUrl: httpUrl().optional(),
  log: logSchema.prefault({}),
  store: storeSchema.prefault({}),
  server: serverSchema.prefault({}),
  agent: agentSchema.prefault({}),
  audit: auditSchema.prefault({}),
});

/**
 * A loaded configuration: the schema's output with defaults applied, paths made absolute, and
 * `store.sqlite.file` filled in.
 */
export type TesseraConfig = z.output<typeof configSchema> & {
  readonly store: { readonly sqlite: { readonly file: string } };
};

/** How the loader turns a string (from the environment or a flag) into a leaf's value. */
export type LeafKind = 'string' | 'integer' | 'number' | 'boolean' | 'enum' | 'list';

/** One settable key of the configuration. */
export interface ConfigLeaf {
  /** Dotted key path, e.g. `store.sqlite.busyTimeoutMs`. */
  readonly path: string;
  /** Environment variable that sets it, e.g. `TESSERA_STORE_SQLITE_BUSY_TIMEOUT_MS`. */
  readonly env: string;
  readonly kind: LeafKind;
  /** Phrase describing a valid value, for error messages. */
  readonly expected: string;
  readonly secret: boolean;
}

/**
 * The environment variable for a dotted key path: `TESSERA_` followed by each segment in
 * UPPER_SNAKE_CASE, joined by `_` (`store.sqlite.busyTimeoutMs` → `TESSERA_STORE_SQLITE_BUSY_TIMEOUT_MS`).
 * Pure naming: it does not check that the path exists.
 */
export function envVarFor(path: string): string {
  const segments = path
    .split('.')
    .map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase());
  return ['TESSERA', ...segments].join('_');
}

const INTEGER_FORMATS: ReadonlySet<string> = new Set(['safeint', 'int32', 'uint32']);

function describeInteger(schema: z.ZodNumber): string {
  const min = schema.minValue ?? -Infinity;
  const max = schema.maxValue ?? Infinity;
  const bounded = (n: number): boolean => Math.abs(n) < Number.MAX_SAFE_INTEGER;
  if (bounded(min) && bounded(max)) return `an integer between ${min} and ${max}`;
  if (bounded(min)) return `an integer >= ${min}`;
  if (bounded(max)) return `an integer <= ${max}`;
  return 'an integer';
}

function toLeaf(path: string, schema: z.core.$ZodType, meta: LeafMeta): ConfigLeaf {
  const base = { path, env: envVarFor(path), secret: meta.secret ?? false };
  if (schema instanceof z.ZodEnum) {
    const options = (schema.options as readonly string[]).map((o) => JSON.stringify(o)).join(', ');
    return { ...base, kind: 'enum', expected: meta.expected ?? `one of ${options}` };
  }
  if (schema instanceof z.ZodNumber) {
    const integer = INTEGER_FORMATS.has(schema.format ?? '');
    const expected = meta.expected ?? (integer ? describeInteger(schema) : 'a number');
    return { ...base, kind: integer ? 'integer' : 'number', expected };
  }
  if (schema instanceof z.ZodBoolean) {
    return { ...base, kind: 'boolean', expected: meta.expected ?? 'true or false' };
  }
  if (schema instanceof z.ZodString || schema instanceof z.ZodStringFormat) {
    return { ...base, kind: 'string', expected: meta.expected ?? 'a string' };
  }
  if (schema instanceof z.ZodArray) {
    return { ...base, kind: 'list', expected: meta.expected ?? 'a list' };
  }
  // A programming error, caught by the first test that imports this module.
  throw new TypeError(`config key ${path} has a type the loader cannot read from the environment`);
}

function collectLeaves(schema: z.core.$ZodType, path: readonly string[], out: ConfigLeaf[]): void {
  let inner: z.core.$ZodType = schema;
  let meta: LeafMeta = leafMeta.get(inner) ?? {};
  while (
    inner instanceof z.ZodOptional ||
    inner instanceof z.ZodDefault ||
    inner instanceof z.ZodPrefault ||
    inner instanceof z.ZodPipe
  ) {
    // A pipe is a leaf's preprocessing (see `httpUrls`): what it checks is its output schema.
    inner = inner instanceof z.ZodPipe ? inner.out : inner.unwrap();
    meta = { ...leafMeta.get(inner), ...meta };
  }
  if (inner instanceof z.ZodObject) {
    const shape = inner.shape as Record<string, z.core.$ZodType>;
    for (const [key, child] of Object.entries(shape)) {
      collectLeaves(child, [...path, key], out);
    }
    return;
  }
  out.push(toLeaf(path.join('.'), inner, meta));
}

function buildLeaves(): readonly ConfigLeaf[] {
  const out: ConfigLeaf[] = [];
  collectLeaves(configSchema, [], out);
  return out;
}

/** Every settable key of {@link configSchema}, in schema order. */
export const configLeaves: readonly ConfigLeaf[] = buildLeaves();
