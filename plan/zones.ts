/**
 * The plan's DNS zones, all served by the lab's name server: one forward zone per mail domain
 * (the course's SOA, NS, A and MX records, and the A records of the domain's PCs), the subnet's
 * reverse zone (a PTR per host), and a root zone of the lab's own.
 */
import { type Ipv4Subnet, parseIpv4, reverseOwnerName, reverseZoneOf } from "../config/ipv4";
import type { ClientPlan, DnsRecord, MailHostPlan, NameServerPlan, PlannedHost, ZonePlan } from "./types";

export function planZones(lab: {
  readonly subnet: Ipv4Subnet;
  readonly nameServer: NameServerPlan;
  readonly mailHosts: readonly MailHostPlan[];
  readonly clients: readonly ClientPlan[];
  /** The name server's host label (`ns`), which every zone has for it. */
  readonly nsHostName: string;
}): { zones: ZonePlan[]; reverseZone: string } {
  const { subnet, nameServer, mailHosts, clients, nsHostName } = lab;
  const { fqdn: nameServerFqdn, address: nameServerAddress, domain: firstDomain } = nameServer;
  const reverse = reverseZoneOf(subnet);
  const zones: ZonePlan[] = mailHosts.map((mailHost) => {
    const relative = (fqdn: string) => fqdn.slice(0, -(mailHost.domain.length + 1));
    const records: DnsRecord[] = [
      { owner: "@", type: "NS", target: `${nsHostName}.${mailHost.domain}` },
      // The course gives the domain itself an A record for its mail server.
      { owner: "@", type: "A", address: mailHost.address },
      { owner: "@", type: "MX", priority: 10, target: mailHost.fqdn },
      { owner: nsHostName, type: "A", address: nameServerAddress },
      { owner: relative(mailHost.fqdn), type: "A", address: mailHost.address },
      ...clients
        .filter((client) => client.domain === mailHost.domain)
        .map((client): DnsRecord => ({ owner: relative(client.fqdn), type: "A", address: client.address })),
    ];
    return {
      name: mailHost.domain,
      kind: "forward",
      primaryNameServer: `${nsHostName}.${mailHost.domain}`,
      hostmaster: `root.${mailHost.domain}`,
      records,
    };
  });
  const ptr = (host: PlannedHost): DnsRecord => ({
    owner: reverseOwnerName(parseIpv4(host.address)!, reverse.octets),
    type: "PTR",
    target: host.fqdn,
  });
  const hostsByAddress = [nameServer, ...mailHosts, ...clients].sort(
    (a, b) => parseIpv4(a.address)! - parseIpv4(b.address)!,
  );
  zones.push({
    name: reverse.zone,
    kind: "reverse",
    primaryNameServer: nameServerFqdn,
    hostmaster: `root.${firstDomain}`,
    records: [{ owner: "@", type: "NS", target: nameServerFqdn }, ...hostsByAddress.map(ptr)],
  });
  // The lab is a closed world. Without a root, a name outside the lab gets REFUSED (recursion is
  // off), which every mail program takes for a temporary failure: a stranger's relay attempt is
  // told to retry (450), an outside sender domain gets 451 instead of the access map's REJECT,
  // and mail to an outside domain waits the whole queue lifetime. With the lab's own root zone on
  // the same server, every other name is NXDOMAIN with authority: a permanent answer. The root
  // holds only its own NS and that name server's address; the lab's zones need no delegation
  // from it, since BIND answers from the closest zone it serves (naver.com for mail.naver.com).
  zones.unshift({
    name: ".",
    kind: "root",
    primaryNameServer: nameServerFqdn,
    hostmaster: `root.${firstDomain}`,
    records: [
      { owner: "@", type: "NS", target: nameServerFqdn },
      { owner: nameServerFqdn, type: "A", address: nameServerAddress },
    ],
  });

  return { zones, reverseZone: reverse.zone };
}
