// ARM's deterministic names: uniqueString() (ResourceStack's MurmurHash64 in base32) and guid() (UUID v5 in ARM's namespace).
import { createHash } from 'node:crypto';

const C1 = 0x239b961b;
const C2 = 0xab0e9789;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

function mul(a: number, b: number): number {
  return Math.imul(a, b) >>> 0;
}

function fmix32(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = mul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = mul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Little-endian unsigned value of up to 4 bytes from `offset`. */
function readLe(bytes: Uint8Array, offset: number, length: number): number {
  let value = 0;
  for (let j = 0; j < length; j++) value |= (bytes[offset + j] ?? 0) << (8 * j);
  return value >>> 0;
}

function mixK1(k: number): number {
  return mul(rotl(mul(k, C1), 15), C2);
}

function mixK2(k: number): number {
  return mul(rotl(mul(k, C2), 17), C1);
}

/**
 * ResourceStack's `ComputeHash.MurmurHash64`: MurmurHash3 x86 mixing over two 32-bit lanes (seed
 * 0), combined into 64 bits as `h2 << 32 | h1` (PROTOCOL-TOOLS.md Part C §2.11).
 *
 * The tail's upper lane (5 to 7 bytes left) is multiplied as a wrapping 32-bit integer, as C#
 * does. azapi's Go port negates a negative product there instead; the two differ when that product
 * has its sign bit set. Reinterpretation agrees with Microsoft's `Azure.Deployments.Expression`
 * library on such an input (see unique.test.ts), but no such value has yet been checked against a
 * live Azure deployment.
 */
export function murmurHash64(bytes: Uint8Array): bigint {
  let h1 = 0;
  let h2 = 0;
  const length = bytes.length;
  let i = 0;
  for (; i + 8 <= length; i += 8) {
    h1 = (h1 ^ mixK1(readLe(bytes, i, 4))) >>> 0;
    h1 = (rotl(h1, 19) + h2) >>> 0;
    h1 = (mul(h1, 5) + 0x561ccd1b) >>> 0;
    h2 = (h2 ^ mixK2(readLe(bytes, i + 4, 4))) >>> 0;
    h2 = (rotl(h2, 13) + h1) >>> 0;
    h2 = (mul(h2, 5) + 0x0bcaa747) >>> 0;
  }
  const tail = length - i;
  if (tail > 0) {
    h1 = (h1 ^ mixK1(readLe(bytes, i, Math.min(tail, 4)))) >>> 0;
    if (tail > 4) h2 = (h2 ^ mixK2(readLe(bytes, i + 4, tail - 4))) >>> 0;
  }
  h1 = (h1 ^ length) >>> 0;
  h2 = (h2 ^ length) >>> 0;
  h1 = (h1 + h2) >>> 0;
  h2 = (h2 + h1) >>> 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h1 = (h1 + h2) >>> 0;
  h2 = (h2 + h1) >>> 0;
  return (BigInt(h2) << 32n) | BigInt(h1);
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const MASK64 = (1n << 64n) - 1n;

/**
 * `uniqueString(a, b, …)`: the parts joined with `-`, UTF-8, hashed with {@link murmurHash64},
 * written as 13 characters of `a-z2-7`, five bits at a time from the top (the last character
 * takes the remaining four bits and a zero).
 */
export function uniqueString(parts: readonly string[]): string {
  let value = murmurHash64(Buffer.from(parts.join('-'), 'utf8'));
  let out = '';
  for (let i = 0; i < 13; i++) {
    out += BASE32.charAt(Number(value >> 59n));
    value = (value << 5n) & MASK64;
  }
  return out;
}

/** ARM's namespace for `guid()` (`ARMNamespaceGuid`). */
const ARM_NAMESPACE = Buffer.from('11fb06fb712d4ddd98c7e71bbd588830', 'hex');

/**
 * `guid(a, b, …)`: RFC 4122 name-based UUID version 5 (SHA-1) of the parts joined with `-`, in
 * ARM's namespace `11fb06fb-712d-4ddd-98c7-e71bbd588830`, lower case.
 */
export function templateGuid(parts: readonly string[]): string {
  const hash = createHash('sha1')
    .update(ARM_NAMESPACE)
    .update(Buffer.from(parts.join('-'), 'utf8'))
    .digest();
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x50, 6);
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
