// A public JSON Web Key as the domain hands it around: jose's `JWK`, read-only throughout.
import type { JWK } from 'jose';

/** A public JWK as callers hold it: jose's `JWK`, read-only, its arrays too. */
export type JwkInput = Readonly<Omit<JWK, 'x5c' | 'key_ops' | 'oth'>> & {
  readonly x5c?: readonly string[];
  readonly key_ops?: readonly string[];
};
