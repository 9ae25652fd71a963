/** IPv4 arithmetic: the lab's strict CIDR, Docker's lenient one, overlaps and reverse names. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatCidr, parseCidr, parseDockerSubnet, reverseOwnerName, reverseZoneOf, subnetsOverlap } from "./ipv4";

describe("parseDockerSubnet", () => {
  it("reads any IPv4 prefix length Docker may hold, masking host bits", () => {
    assert.deepEqual(parseDockerSubnet("10.0.7.0/24"), { network: 0x0a000700, prefixLength: 24, size: 256 });
    assert.deepEqual(parseDockerSubnet("10.0.7.5/30"), { network: 0x0a000704, prefixLength: 30, size: 4 });
    assert.deepEqual(parseDockerSubnet("192.168.0.1/32"), { network: 0xc0a80001, prefixLength: 32, size: 1 });
    assert.deepEqual(parseDockerSubnet("0.0.0.0/0"), { network: 0, prefixLength: 0, size: 2 ** 32 });
  });

  it("leaves out IPv6 and malformed text", () => {
    for (const text of ["fd00::/64", "10.0.7.0", "10.0.7.0/33", "10.0.256.0/24", ""]) {
      assert.equal(parseDockerSubnet(text), undefined, text);
    }
  });
});
describe("the lab's subnet", () => {
  it("is strict: host bits and prefix lengths a lab cannot use are refused with the reason", () => {
    assert.deepEqual(parseCidr("10.0.2.0/24"), { network: 0x0a000200, prefixLength: 24, size: 256 });
    assert.match(parseCidr("10.0.2.5/24") as string, /host bits set; the network address for \/24 is 10\.0\.2\.0\/24/);
    assert.match(parseCidr("10.0.0.0/30") as string, /between \/8 and \/29/);
    assert.match(parseCidr("10.0.2.0") as string, /not in CIDR form/);
  });

  it("overlaps, prints and names its reverse zone", () => {
    const lab = parseCidr("10.0.2.0/24") as Exclude<ReturnType<typeof parseCidr>, string>;
    assert.equal(formatCidr(lab), "10.0.2.0/24");
    assert.equal(subnetsOverlap(lab, parseDockerSubnet("10.0.0.0/16")!), true);
    assert.equal(subnetsOverlap(lab, parseDockerSubnet("10.0.3.0/24")!), false);
    const reverse = reverseZoneOf(lab);
    assert.equal(reverse.zone, "2.0.10.in-addr.arpa");
    assert.equal(reverseOwnerName(0x0a000264, reverse.octets), "100");
  });
});
