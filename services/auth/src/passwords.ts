import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import { hasUnpairedSurrogate } from '@chat/common/contracts';

export const DEFAULT_BCRYPT_COST = 12;

/**
 * bcrypt reads at most 72 bytes, so two long passwords sharing a prefix would hash alike.
 * Every password is first reduced to a fixed 44-character digest: HMAC-SHA-256 keyed with a
 * constant label (so the stored hash is not a bcrypt of a plain SHA-256 that could be matched
 * against leaked unsalted hashes), encoded in base64 because bcrypt stops at a NUL byte and raw
 * digests contain them. NFC normalization makes the same text typed on different keyboards
 * (composed vs decomposed accents) the same password.
 */
const PREHASH_KEY = 'chat-auth/password-prehash/v1';

export function prehashPassword(password: string): string {
  return createHmac('sha256', PREHASH_KEY).update(password.normalize('NFC'), 'utf8').digest('base64');
}

export interface PasswordHasher {
  readonly cost: number;
  hash(password: string): Promise<string>;
  verify(password: string, storedHash: string): Promise<boolean>;
  /**
   * Spends the same bcrypt work as `verify` and returns false. Used when the user does not
   * exist, so an unknown name and a wrong password take about the same time.
   */
  verifyAgainstDummy(password: string): Promise<false>;
  /** True when a stored hash was made with a different cost than the current one. */
  needsRehash(storedHash: string): boolean;
}

export function createPasswordHasher(opts: { cost?: number } = {}): PasswordHasher {
  const cost = opts.cost ?? DEFAULT_BCRYPT_COST;
  // Made once, up front, at the current cost, so the first unknown-name login is not slower.
  const dummyHash = bcrypt.hash(prehashPassword(randomBytes(16).toString('hex')), cost);

  return {
    cost,
    hash: (password) => bcrypt.hash(prehashPassword(password), cost),
    async verify(password, storedHash) {
      const matches = await bcrypt.compare(prehashPassword(password), storedHash);
      // An unpaired surrogate would be encoded as U+FFFD, so such input must never match.
      return matches && !hasUnpairedSurrogate(password);
    },
    async verifyAgainstDummy(password) {
      await bcrypt.compare(prehashPassword(password), await dummyHash);
      return false;
    },
    needsRehash(storedHash) {
      try {
        return bcrypt.getRounds(storedHash) !== cost;
      } catch {
        return false;
      }
    },
  };
}
