/**
 * The lab's Mermaid diagram: golden files for the reference stacks (refresh after an intended
 * change with `UPDATE_GOLDEN=1 node --import tsx --test render/diagram.test.ts` and review the
 * diff), what it must show, and the READMEs' copy of the dev stack's picture. The real renderer
 * (mermaid-cli) runs over it in scripts/diagram.test.ts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { readStackFile } from "../config/load";
import { allHosts, type LabPlan, resolvePlan } from "../plan/plan";
import { relayRulesFor, renderMermaidDiagram } from "./diagram";

const root = path.join(__dirname, "..");
const goldenDir = path.join(root, "test", "golden", "diagram");

function planOf(stack: string): LabPlan {
  const file = readStackFile(path.join(root, "stacks", `Pulumi.${stack}.yaml`));
  return resolvePlan(file.config, { project: "mail-lab", stack: file.stack });
}

/** The edges of a diagram: `from -->|"label"| to` as [from, label lines, to]. */
function edgesOf(diagram: string): [string, string[], string][] {
  return [...diagram.matchAll(/^ {2}(\w+) -(?:->|\.->)\|"([^"]*)"\| (\w+)$/gm)].map((match) => [
    match[1]!,
    match[2]!.split("<br/>"),
    match[3]!,
  ]);
}

for (const stack of ["dev", "campus"]) {
  describe(`the diagram of the ${stack} stack`, () => {
    const plan = planOf(stack);
    const diagram = renderMermaidDiagram(plan);
    const golden = path.join(goldenDir, `${stack}.mmd`);
    if (process.env.UPDATE_GOLDEN === "1") {
      fs.mkdirSync(goldenDir, { recursive: true });
      fs.writeFileSync(golden, diagram);
    }

    it("is the golden file", () => {
      assert.ok(
        fs.existsSync(golden),
        `${golden} is missing; run UPDATE_GOLDEN=1 node --import tsx --test ${__filename}`,
      );
      assert.equal(diagram, fs.readFileSync(golden, "utf8"));
    });

    it("is the same text every time, from a plan resolved again", () => {
      assert.equal(renderMermaidDiagram(planOf(stack)), diagram);
    });

    it("names the network, and every host with its FQDN and address", () => {
      assert.ok(diagram.includes(`network ${plan.network.name} · ${plan.network.subnet}`));
      for (const host of allHosts(plan)) {
        assert.match(diagram, new RegExp(`"${host.fqdn.replace(/\./g, "\\.")} \\([^)]*\\)<br/>${host.address}<br/>`));
      }
    });

    it("shows each mail host's MX and users, and each PC's user", () => {
      for (const mailHost of plan.mailHosts) {
        assert.ok(
          diagram.includes(
            `<br/>MX 10 of ${mailHost.domain}<br/>users: ${mailHost.users.map((user) => user.login).join(", ")}`,
          ),
        );
      }
      for (const client of plan.clients) assert.ok(diagram.includes(`<br/>user ${client.email}"`), client.key);
    });

    it("draws a relay edge exactly where the plan relays, labelled with the access keys", () => {
      const edges = edgesOf(diagram);
      for (const client of plan.clients) {
        for (const mailHost of plan.mailHosts) {
          const rules = relayRulesFor(mailHost, client);
          const edge = edges.find(
            ([from, , to]) => from === client.key.replace(/-/g, "_") && to === mailHost.key.replace(/-/g, "_"),
          );
          if (rules.length > 0) {
            assert.deepEqual(edge?.[1], [
              "may relay by",
              rules.map((rule) => `${rule.tag ? `${rule.tag}:` : ""}${rule.match}`).join(", "),
            ]);
          } else if (mailHost.fqdn === client.mailHostFqdn) {
            assert.deepEqual(edge?.[1], ["no relay rule:", "587 + SMTP AUTH"], `${client.key} -> ${mailHost.key}`);
          } else {
            assert.equal(edge, undefined, `${client.key} may not relay through ${mailHost.fqdn}`);
          }
        }
        // The picture and the PC's presets agree on how it sends.
        const own = edges.find(
          ([from, , to]) => from === client.key.replace(/-/g, "_") && to === client.mailHostFqdn.replace(/\./g, "_"),
        );
        assert.equal(own?.[1][0] === "may relay by", client.submission.port === 25, client.key);
      }
    });

    it("has every mail host look up MX at the name server", () => {
      const lookups = edgesOf(diagram).filter(([, label]) => label[0] === "MX lookup");
      assert.deepEqual(
        lookups.map(([from, , to]) => [from, to]),
        plan.mailHosts.map((mailHost) => [mailHost.key.replace(/-/g, "_"), "ns"]),
      );
    });
  });
}

describe("the diagram's text", () => {
  it("the dev stack's: every PC may relay through both mail hosts, by the course's rules", () => {
    const edges = edgesOf(renderMermaidDiagram(planOf("dev")));
    assert.deepEqual(
      edges.filter(([, label]) => label[0] === "may relay by").map(([from, label, to]) => `${from} ${label[1]} ${to}`),
      [
        "lee_pc naver.com, 10.0.2 mail_naver_com",
        "lee_pc naver.com, 10.0.2 mail_daum_net",
        "kim_pc daum.net, 10.0.2 mail_naver_com",
        "kim_pc daum.net, 10.0.2 mail_daum_net",
      ],
    );
  });

  it("writes characters Mermaid reads as syntax as entities", () => {
    const plan = planOf("dev");
    const odd = {
      ...plan,
      network: { ...plan.network, name: 'lab "net" #1 <a>' },
    };
    const diagram = renderMermaidDiagram(odd);
    assert.ok(diagram.includes("network lab #34;net#34; #35;1 #60;a#62; · 10.0.2.0/24"), diagram.split("\n")[12]);
  });

  it("shows the ports a mail host publishes for desktop clients", () => {
    const file = readStackFile(path.join(root, "test", "e2e", "stacks", "Pulumi.desk.yaml"));
    const diagram = renderMermaidDiagram(resolvePlan(file.config, { project: "mail-lab", stack: file.stack }));
    assert.ok(diagram.includes("<br/>published on 127.0.0.1: smtp 12525, submission 12587, imaps 12993, pop3s 12995"));
  });
});

describe("the READMEs' picture of the dev lab", () => {
  const block = ["```mermaid", renderMermaidDiagram(planOf("dev")).trimEnd(), "```"].join("\n");
  for (const readme of ["README.md", "README.ko.md"]) {
    it(`${readme} shows the Mermaid text of npm run diagram -- stacks/Pulumi.dev.yaml and the committed SVG`, () => {
      const text = fs.readFileSync(path.join(root, readme), "utf8");
      assert.ok(text.includes(block), `${readme}: paste the output of npm run -s diagram -- stacks/Pulumi.dev.yaml`);
      assert.ok(text.includes("(docs/dev-lab.svg)"), `${readme} links docs/dev-lab.svg`);
    });
  }

  it("docs/dev-lab.svg shows every host of the dev stack with its address", () => {
    const svg = fs.readFileSync(path.join(root, "docs", "dev-lab.svg"), "utf8");
    for (const host of allHosts(planOf("dev"))) {
      assert.ok(svg.includes(`>${host.fqdn}<`) || svg.includes(`>${host.fqdn} `), host.fqdn);
      assert.ok(svg.includes(`>${host.address}<`), host.address);
    }
  });
});
