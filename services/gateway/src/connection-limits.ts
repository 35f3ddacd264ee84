/**
 * Caps on open sockets per user and per client address, checked at the upgrade so a refused
 * client never gets a socket (HTTP 429). The cost per idle socket is the point of the design
 * (make bench: ≤ 1.2 KB per socket): the per-user count is the size of the user's set in the
 * socket registry, which exists anyway, and the per-address count is one small object per
 * address, shared by that address's sockets (each keeps a reference to it: one field, no copy of
 * the address).
 */
import type { UpgradeRejection } from './upgrade-rejections.js';

/** One client address's open sockets; the object its sockets point at. */
export interface AddressCount {
  readonly address: string;
  count: number;
}

export class ConnectionLimits {
  private readonly byAddress = new Map<string, AddressCount>();

  /** 0 turns a cap off. */
  constructor(
    private readonly maxPerUser: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Why a new socket of a user who holds `userSockets` here, from `address`, is refused; undefined when it may open. */
  refusal(userSockets: number, address: string): Extract<UpgradeRejection, 'user_limit' | 'address_limit'> | undefined {
    if (this.maxPerUser > 0 && userSockets >= this.maxPerUser) return 'user_limit';
    if (this.maxPerAddress > 0 && (this.byAddress.get(address)?.count ?? 0) >= this.maxPerAddress) return 'address_limit';
    return undefined;
  }

  /** Counts a socket from `address`; its state keeps the result for `release`. Undefined while the cap is off. */
  acquire(address: string): AddressCount | undefined {
    if (this.maxPerAddress <= 0) return undefined;
    let entry = this.byAddress.get(address);
    if (!entry) {
      entry = { address, count: 0 };
      this.byAddress.set(address, entry);
    }
    entry.count++;
    return entry;
  }

  release(entry: AddressCount | undefined): void {
    if (!entry) return;
    if (--entry.count <= 0) this.byAddress.delete(entry.address);
  }

  /** Whether sockets are counted per address at all (the upgrade need not work out the address otherwise). */
  get countsAddresses(): boolean {
    return this.maxPerAddress > 0;
  }

  /** Addresses holding at least one socket (a gauge). */
  get addresses(): number {
    return this.byAddress.size;
  }
}
