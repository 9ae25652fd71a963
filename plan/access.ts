/** What the access rules of a mail host mean for a client, as Sendmail reads them. */
import type { AccessRule } from "../config/schema";

/**
 * Whether a RELAY rule of the access map covers a client connecting from `address` with the
 * host name `fqdn` (Sendmail looks up the connecting host's name in the lab's reverse zone).
 * Untagged and Connect: rules count; a more specific REJECT for the same client is not modelled.
 */
export function accessRulesRelayFor(rules: readonly AccessRule[], address: string, fqdn: string): boolean {
  return rules.some((rule) => {
    if (rule.action !== "RELAY" || (rule.tag !== undefined && rule.tag !== "Connect") || rule.match.includes("@")) {
      return false;
    }
    const match = rule.match.toLowerCase();
    if (/^\d+(\.\d+){0,3}$/.test(match)) return address === match || address.startsWith(`${match}.`);
    return fqdn === match || fqdn.endsWith(`.${match}`);
  });
}
