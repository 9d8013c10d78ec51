// Files sealed under the host key: AES-256-GCM with a key derived by HKDF from the host's private key.
import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { writeSecretFile } from '../config/data-dir.js';
import { readPrivateJson } from './host-identity.js';

/** What a sealed file is bound to. */
export interface SealContext {
  readonly hostId: string;
  /** The host's private key now. */
  readonly hostKey: KeyObject;
  /** What the file holds (`identity-keys`, `cache`): a file sealed for one purpose never opens as another. */
  readonly purpose: string;
}

/** The file on disk: everything but `data` is public. */
interface SealedFile {
  readonly version: 1;
  readonly purpose: string;
  readonly hostId: string;
  /** base64 of 32 random bytes: the HKDF salt, new on every write. */
  readonly salt: string;
  /** base64 of the 12-byte GCM nonce. */
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

/**
 * The sealing key: HKDF-SHA256 over the host key's private scalar, salted with 32 fresh random
 * bytes per write and labelled with the purpose. It is never stored; whoever can read the host
 * key (host.json, 0600) can derive it, so sealing protects a copy of the sealed file alone, binds
 * it to this host's key, and detects tampering.
 */
function sealingKey(context: SealContext, salt: Buffer): Buffer {
  const d = context.hostKey.export({ format: 'jwk' }).d;
  if (d === undefined) throw new Error('the host key has no private scalar');
  const info = `tessera agent sealed ${context.purpose} v1`;
  return Buffer.from(hkdfSync('sha256', Buffer.from(d, 'base64url'), salt, info, 32));
}

const aadFor = (context: SealContext): Buffer =>
  Buffer.from(`tessera-sealed-v1\n${context.purpose}\n${context.hostId}`);

/** Seals `value` (as JSON) for `context`. */
export function sealJson(value: unknown, context: SealContext): SealedFile {
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(context, salt), iv);
  cipher.setAAD(aadFor(context));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return {
    version: 1,
    purpose: context.purpose,
    hostId: context.hostId,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

/**
 * Opens what {@link sealJson} made. Throws when the file is not sealed for this host and purpose,
 * was sealed under another host key, or was altered.
 */
export function unsealJson(file: unknown, context: SealContext): unknown {
  const f = file as Partial<SealedFile>;
  if (
    f.version !== 1 ||
    f.purpose !== context.purpose ||
    f.hostId !== context.hostId ||
    typeof f.salt !== 'string' ||
    typeof f.iv !== 'string' ||
    typeof f.tag !== 'string' ||
    typeof f.data !== 'string'
  ) {
    throw new Error(`not a sealed ${context.purpose} file of this host`);
  }
  const decipher = createDecipheriv(
    'aes-256-gcm',
    sealingKey(context, Buffer.from(f.salt, 'base64')),
    Buffer.from(f.iv, 'base64'),
  );
  decipher.setAAD(aadFor(context));
  decipher.setAuthTag(Buffer.from(f.tag, 'base64'));
  // GCM is a stream mode: `update` gives every byte, `final` only checks the tag (and throws on a
  // mismatch, before anything is parsed). No concatenated copy of a file that may be megabytes.
  const plain = decipher.update(Buffer.from(f.data, 'base64'));
  decipher.final();
  return JSON.parse(plain.toString('utf8')) as unknown;
}

/** Writes `value` sealed to `path` atomically, mode 0600. */
export async function writeSealed(
  path: string,
  value: unknown,
  context: SealContext,
): Promise<void> {
  await writeSecretFile(path, JSON.stringify(sealJson(value, context)));
}

/**
 * Reads and opens a sealed file: undefined when there is none. Fails with `ConfigInvalid` for a
 * file others can read, and as {@link unsealJson} does for one that does not open.
 */
export async function readSealed(path: string, context: SealContext): Promise<unknown> {
  const file = await readPrivateJson(path);
  return file === undefined ? undefined : unsealJson(file, context);
}
