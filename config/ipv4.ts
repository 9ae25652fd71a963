/**
 * IPv4 arithmetic for the lab network. Addresses are handled as unsigned 32-bit numbers so that
 * subnet membership, allocation and reverse-zone names are plain integer operations.
 */

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses dotted-quad IPv4 text; returns undefined when it is not exactly four decimal octets. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => OCTET.test(part))) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export interface Ipv4Subnet {
  /** The network address, e.g. 10.0.2.0 as a number. */
  readonly network: number;
  readonly prefixLength: number;
  /** Number of addresses in the subnet, network and broadcast included. */
  readonly size: number;
}

/**
 * Parses `a.b.c.d/n`. Returns an error text (for a config message) when the CIDR is malformed or
 * has host bits set, because a silently masked subnet would put hosts somewhere the user did not say.
 */
export function parseCidr(text: string): Ipv4Subnet | string {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match) return "is not in CIDR form a.b.c.d/n (for example 10.0.2.0/24)";
  const address = parseIpv4(match[1]!);
  const prefixLength = Number(match[2]);
  if (address === undefined) return `has an invalid address part "${match[1]}"`;
  if (prefixLength < 8 || prefixLength > 29) {
    return "must have a prefix length between /8 and /29 (a lab needs at least a few addresses; Docker cannot use a wider one)";
  }
  const size = 2 ** (32 - prefixLength);
  if (address % size !== 0) {
    const network = address - (address % size);
    return `has host bits set; the network address for /${prefixLength} is ${formatIpv4(network)}/${prefixLength}`;
  }
  return { network: address, prefixLength, size };
}

/**
 * Parses a subnet as Docker reports one, `a.b.c.d/n` with any prefix length /0 to /32 and host
 * bits masked as Docker does; undefined for IPv6 or anything else. (The lab's own subnet goes
 * through `parseCidr`, which is strict.)
 */
export function parseDockerSubnet(text: string): Ipv4Subnet | undefined {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!match) return undefined;
  const address = parseIpv4(match[1]!);
  const prefixLength = Number(match[2]);
  if (address === undefined || prefixLength > 32) return undefined;
  const size = 2 ** (32 - prefixLength);
  return { network: address - (address % size), prefixLength, size };
}

export function subnetContains(subnet: Ipv4Subnet, address: number): boolean {
  return address >= subnet.network && address < subnet.network + subnet.size;
}

export function broadcastOf(subnet: Ipv4Subnet): number {
  return subnet.network + subnet.size - 1;
}

export function formatCidr(subnet: Ipv4Subnet): string {
  return `${formatIpv4(subnet.network)}/${subnet.prefixLength}`;
}

/** Whether two subnets share any address. */
export function subnetsOverlap(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

/**
 * The octet-aligned reverse zone that covers the subnet: a /24 (or longer) lives in
 * `c.b.a.in-addr.arpa`, a /16../23 in `b.a.in-addr.arpa`, a /8../15 in `a.in-addr.arpa`.
 * The lab's name server is authoritative for the whole aligned block, which is harmless in a lab
 * and avoids RFC 2317 classless delegation.
 */
export function reverseZoneOf(subnet: Ipv4Subnet): { zone: string; octets: number } {
  const octets = subnet.prefixLength >= 24 ? 3 : subnet.prefixLength >= 16 ? 2 : 1;
  const leading = formatIpv4(subnet.network).split(".").slice(0, octets);
  return { zone: `${leading.reverse().join(".")}.in-addr.arpa`, octets };
}

/** The owner name of an address inside its reverse zone, relative to the zone (e.g. `100` or `100.2`). */
export function reverseOwnerName(address: number, zoneOctets: number): string {
  return formatIpv4(address).split(".").slice(zoneOctets).reverse().join(".");
}

/**
 * The Sendmail access-map prefixes that cover exactly the subnet: one entry per /24 inside it
 * (`10.0.2`), or the address itself for subnets longer than /24 cannot be expressed, so those use
 * the covering /24. Sendmail matches IPv4 entries on whole octets only.
 */
export function accessPrefixesOf(subnet: Ipv4Subnet): string[] {
  if (subnet.prefixLength >= 24) {
    return [formatIpv4(subnet.network).split(".").slice(0, 3).join(".")];
  }
  if (subnet.prefixLength === 16 || subnet.prefixLength === 8) {
    return [
      formatIpv4(subnet.network)
        .split(".")
        .slice(0, subnet.prefixLength / 8)
        .join("."),
    ];
  }
  const step = subnet.prefixLength > 16 ? 256 : 65536;
  const octets = subnet.prefixLength > 16 ? 3 : 2;
  const prefixes: string[] = [];
  for (let block = subnet.network; block < subnet.network + subnet.size; block += step) {
    prefixes.push(formatIpv4(block).split(".").slice(0, octets).join("."));
  }
  return prefixes;
}
