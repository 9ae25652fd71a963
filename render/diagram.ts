/**
 * A picture of the lab from its plan: a Mermaid flowchart of the network, the name server, each
 * domain's mail host and PCs, and who may relay through which mail host. Pure and deterministic:
 * `npm run diagram` prints it, the stack exports it as the output `diagram`, the READMEs show it.
 */
import { type AccessRule, accessKeyOf } from "../config/schema";
import { accessRulesRelayFor, type ClientPlan, type LabPlan, type MailHostPlan, type PlannedHost } from "../plan/plan";

/**
 * Text inside a quoted Mermaid label. Mermaid reads `#name;` as an entity and ends the label at a
 * double quote, and `<br/>` is its line break, so `#`, `"`, `<` and `>` are written as entities.
 */
function labelText(text: string): string {
  return text.replace(/[#"<>]/g, (character) => `#${character.charCodeAt(0)};`);
}

/** A multi-line quoted label. */
function label(lines: readonly string[]): string {
  return `"${lines.map(labelText).join("<br/>")}"`;
}

/** Mermaid node id of a host: its key (`mail-naver-com`, `lee-pc`) with `_` for `-`, which ids may not hold. */
function nodeId(host: PlannedHost): string {
  return host.key.replace(/[^A-Za-z0-9]/g, "_");
}

/** Mermaid id of a domain's subgraph: `domain_naver_com`. */
function domainId(domain: string): string {
  return `domain_${domain.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/**
 * The access rules of `mailHost` that let `client` relay through it, in config order; empty when
 * none does. Each rule is judged alone by the plan's own relay test, so the picture and the PCs'
 * presets (`ClientPlan.submission`) cannot disagree.
 */
export function relayRulesFor(mailHost: MailHostPlan, client: ClientPlan): AccessRule[] {
  return mailHost.accessRules.filter((rule) => accessRulesRelayFor([rule], client.address, client.fqdn));
}

function nameServerLabel(plan: LabPlan): string {
  return label([
    `${plan.nameServer.fqdn} (BIND)`,
    plan.nameServer.address,
    // The lab's mail domains and its reverse zone (not any zone the name server keeps for itself).
    `zones: ${plan.zones
      .filter((zone) => zone.kind === "forward" || zone.kind === "reverse")
      .map((zone) => zone.name)
      .join(", ")}`,
    "every host resolves here",
  ]);
}

function mailHostLabel(mailHost: MailHostPlan): string {
  const lines = [
    `${mailHost.fqdn} (Sendmail, Dovecot)`,
    mailHost.address,
    `MX 10 of ${mailHost.domain}`,
    `users: ${mailHost.users.map((user) => user.login).join(", ") || "none"}`,
  ];
  const hostAddresses = [...new Set(mailHost.publishedPorts.map((port) => port.hostAddress))];
  for (const hostAddress of hostAddresses) {
    const ports = mailHost.publishedPorts.filter((port) => port.hostAddress === hostAddress);
    lines.push(`published on ${hostAddress}: ${ports.map((port) => `${port.service} ${port.hostPort}`).join(", ")}`);
  }
  return label(lines);
}

function clientLabel(client: ClientPlan): string {
  return label([`${client.fqdn} (PC)`, client.address, `user ${client.email}`]);
}

/**
 * Mermaid settings carried in the text itself, so that GitHub's rendering of the README block and
 * mermaid-cli's SVG agree: labels as SVG text rather than HTML embedded in the SVG, node labels
 * wrapped only where the text breaks its lines, edge labels on an opaque background.
 */
const FRONTMATTER = [
  "---",
  "config:",
  // Top-level for Mermaid 11, under flowchart for the older Mermaid of some Markdown viewers.
  "  htmlLabels: false",
  "  flowchart:",
  "    htmlLabels: false",
  "    wrappingWidth: 600",
  // Straight edges keep each edge label where the layout reserved room for it; with curves
  // Mermaid moves the labels of two crossing edges to the crossing, on top of each other.
  "    curve: linear",
  '  themeCSS: ".edgeLabel rect { opacity: 1 !important; fill: #eeeeee !important; }"',
  "---",
];

/**
 * The Mermaid flowchart of the lab, top to bottom inside the network: each domain's PCs above its
 * mail host, the name server below. Each PC has an edge to every mail host whose access rules let
 * it relay, labelled with the keys of those RELAY rules as /etc/mail/access writes them; a PC that
 * no rule of its own mail host covers has an edge to it labelled with how it sends instead (587
 * with SMTP AUTH). Each mail host has a dotted edge to the name server, where it looks up the MX of
 * the domain it delivers to. Edge labels are short lines: Mermaid wraps them at 200 pixels.
 */
export function renderMermaidDiagram(plan: LabPlan): string {
  const stackFile = `stacks/Pulumi.${plan.stack}.yaml`;
  const networkTitle = `network ${plan.network.name} · ${plan.network.subnet} · gateway ${plan.network.gateway}`;
  const lines = [
    ...FRONTMATTER,
    "flowchart TB",
    `  %% The lab of stack "${plan.stack}", drawn by mail-lab from ${stackFile}: npm run diagram -- ${stackFile}`,
    `  subgraph network[${label([networkTitle])}]`,
    // Without it Mermaid lays out a subgraph that no edge leaves from left to right.
    "    direction TB",
  ];
  for (const mailHost of plan.mailHosts) {
    lines.push(`    subgraph ${domainId(mailHost.domain)}[${label([mailHost.domain])}]`);
    for (const client of plan.clients.filter((candidate) => candidate.domain === mailHost.domain)) {
      lines.push(`      ${nodeId(client)}(${clientLabel(client)})`);
    }
    lines.push(`      ${nodeId(mailHost)}[${mailHostLabel(mailHost)}]`, "    end");
  }
  lines.push(`    ${nodeId(plan.nameServer)}[(${nameServerLabel(plan)})]`, "  end");
  for (const client of plan.clients) {
    for (const mailHost of plan.mailHosts) {
      const rules = relayRulesFor(mailHost, client);
      if (rules.length > 0) {
        lines.push(
          `  ${nodeId(client)} -->|${label(["may relay by", rules.map(accessKeyOf).join(", ")])}| ${nodeId(mailHost)}`,
        );
      } else if (mailHost.fqdn === client.mailHostFqdn) {
        const { port, authenticate } = client.submission;
        const how = authenticate ? `${port} + SMTP AUTH` : `port ${port}`;
        lines.push(`  ${nodeId(client)} -->|${label(["no relay rule:", how])}| ${nodeId(mailHost)}`);
      }
    }
  }
  for (const mailHost of plan.mailHosts) {
    lines.push(`  ${nodeId(mailHost)} -.->|${label(["MX lookup"])}| ${nodeId(plan.nameServer)}`);
  }
  return `${lines.join("\n")}\n`;
}
