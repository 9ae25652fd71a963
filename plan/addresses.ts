/**
 * The lab network's addresses while the plan is resolved: the gateway, every address a host
 * claims (each once, inside the subnet, never the network, broadcast or gateway address), and
 * the pool that clients without an address of their own are given addresses from.
 */
import { type ConfigProblem, problemAt } from "../config/errors";
import {
  broadcastOf,
  formatCidr,
  formatIpv4,
  type Ipv4Subnet,
  parseCidr,
  parseIpv4,
  subnetContains,
} from "../config/ipv4";
import type { LabConfig } from "../config/schema";

/** First address handed to clients without an explicit one, as an offset from the network address. */
export const CLIENT_POOL_OFFSET = 10;

export class AddressBook {
  readonly subnet: Ipv4Subnet;
  readonly cidr: string;
  readonly broadcast: number;
  readonly firstUsable: number;
  readonly lastUsable: number;
  /** The Docker bridge's own address, so no host may take it. */
  readonly gateway: number;
  private readonly usableRange: string;
  /** Addresses taken so far, with the key that took them, for uniqueness messages. */
  private readonly taken = new Map<number, string>();
  private nextInPool: number;

  constructor(
    network: LabConfig["network"],
    private readonly problems: ConfigProblem[],
  ) {
    this.subnet = parseCidr(network.subnet) as Ipv4Subnet; // the schema already checked it
    this.cidr = formatCidr(this.subnet);
    this.broadcast = broadcastOf(this.subnet);
    this.firstUsable = this.subnet.network + 1;
    this.lastUsable = this.broadcast - 1;
    this.usableRange = `${formatIpv4(this.firstUsable + 1)} to ${formatIpv4(this.lastUsable)}`;
    this.nextInPool = this.subnet.network + CLIENT_POOL_OFFSET;

    let gateway = this.firstUsable;
    if (network.gateway !== undefined) {
      const value = parseIpv4(network.gateway)!;
      if (!subnetContains(this.subnet, value) || value === this.subnet.network || value === this.broadcast) {
        problems.push(
          problemAt(
            ["network", "gateway"],
            network.gateway,
            `is not a usable address of ${this.cidr}; use one from ${formatIpv4(this.firstUsable)} to ${formatIpv4(this.lastUsable)} (default ${formatIpv4(this.firstUsable)})`,
          ),
        );
      } else {
        gateway = value;
      }
    }
    this.gateway = gateway;
  }

  /** The name server's address when the config gives none: the first usable one after the gateway. */
  defaultNameServerAddress(): string {
    return formatIpv4(this.firstUsable + (this.gateway === this.firstUsable ? 1 : 0));
  }

  /** Claims `text` (at config key `path`) for `owner`; a problem if it cannot be theirs. */
  claim(path: PropertyKey[], text: string, owner: string): string {
    const value = parseIpv4(text)!;
    const where = `use an address from ${this.usableRange} that no other host has`;
    const { problems, cidr } = this;
    if (!subnetContains(this.subnet, value)) {
      problems.push(problemAt(path, text, `is outside the subnet ${cidr}; ${where}`));
    } else if (value === this.subnet.network) {
      problems.push(problemAt(path, text, `is the network address of ${cidr}; ${where}`));
    } else if (value === this.broadcast) {
      problems.push(problemAt(path, text, `is the broadcast address of ${cidr}; ${where}`));
    } else if (value === this.gateway) {
      problems.push(problemAt(path, text, `is the network's gateway (mail-lab:network.gateway); ${where}`));
    } else if (this.taken.has(value)) {
      problems.push(problemAt(path, text, `is already the address of ${this.taken.get(value)}; ${where}`));
    } else {
      this.taken.set(value, owner);
    }
    return formatIpv4(value);
  }

  /**
   * The next free address of the client pool for `owner`, or undefined when the subnet is full.
   * Called after every explicit address is claimed, so it never takes one a user chose.
   */
  allocate(owner: string): string | undefined {
    while (
      this.nextInPool <= this.lastUsable &&
      (this.taken.has(this.nextInPool) || this.nextInPool === this.gateway)
    ) {
      this.nextInPool++;
    }
    if (this.nextInPool > this.lastUsable) return undefined;
    this.taken.set(this.nextInPool, owner);
    return formatIpv4(this.nextInPool);
  }
}
