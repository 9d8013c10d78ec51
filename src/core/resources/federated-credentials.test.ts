import { describe, expect, it } from 'vitest';
import {
  federatedConflict,
  MAX_FEDERATED_CREDENTIALS,
  type FederatedCredentialKey,
} from './federated-credentials.js';

const fic = (name: string, subject = name, issuer = 'https://issuer'): FederatedCredentialKey => ({
  name,
  issuer,
  subject,
});

describe('federatedConflict', () => {
  it('refuses another credential with the same issuer and subject, exactly compared', () => {
    expect(federatedConflict([fic('a', 's')], fic('b', 's'))).toBe('duplicate');
    expect(federatedConflict([fic('a', 's')], fic('b', 'S'))).toBeUndefined();
    expect(federatedConflict([fic('a', 's')], fic('b', 's', 'https://other'))).toBeUndefined();
  });

  it('lets a PUT of an existing name replace it, in any case', () => {
    expect(federatedConflict([fic('a', 's')], fic('A', 's'))).toBeUndefined();
  });

  it('allows 20 credentials and refuses a 21st, but not a replacement at 20', () => {
    const full = Array.from({ length: MAX_FEDERATED_CREDENTIALS }, (_, i) => fic(`f${i}`));
    expect(MAX_FEDERATED_CREDENTIALS).toBe(20);
    expect(federatedConflict(full.slice(1), fic('f0'))).toBeUndefined();
    expect(federatedConflict(full, fic('f20'))).toBe('limit');
    expect(federatedConflict(full, fic('f3', 'new subject'))).toBeUndefined();
  });
});
