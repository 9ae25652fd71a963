/** The domains and their mail hosts: names, access keys, users, published ports (plan/domains.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolvePlan } from "./plan";
import { type BadConfig, badConfigTests, baseConfig, planOf } from "./test-configs";

describe("the dev stack's mail hosts", () => {
  const plan = planOf("dev");

  it("gives each mail host its local names, the course's relay rules and its users", () => {
    const [naver] = plan.mailHosts;
    assert.deepEqual(naver!.localHostNames, ["naver.com", "mail.naver.com"]);
    assert.deepEqual(
      naver!.accessRules.map((rule) => `${rule.match} ${rule.action}`),
      ["naver.com RELAY", "daum.net RELAY", "10.0.2 RELAY"],
    );
    assert.deepEqual(naver!.labAccessPrefixes, ["10.0.2"]);
    assert.deepEqual(naver!.users, [{ login: "lee", password: "lee", aliases: [], email: "lee@naver.com" }]);
    assert.equal(naver!.maxMessageSize, 10 * 1024 * 1024);
  });
});

describe("the campus stack's mail hosts", () => {
  const plan = planOf("campus");

  it("honours a custom mail host name, sizes, tags and aliases", () => {
    const daum = plan.mailHosts[1]!;
    assert.equal(daum.fqdn, "smtp.daum.net");
    assert.equal(daum.containerName, "mail-lab-campus-smtp-daum-net");
    assert.equal(plan.mailHosts[0]!.maxMessageSize, 5 * 1024 * 1024);
    assert.equal(plan.mailHosts[2]!.maxMessageSize, 2097152);
    assert.deepEqual(plan.mailHosts[0]!.users[0]!.aliases, ["jisoo"]);
    assert.deepEqual(plan.mailHosts[1]!.accessRules[0], { match: "172.30.5.22", action: "RELAY", tag: "Connect" });
    assert.equal(plan.zones.at(-1)!.name, "5.30.172.in-addr.arpa");
  });
});

describe("published ports", () => {
  it("publishes SMTP on a LAN address once no RELAY rule covers the gateway, and IMAPS/POP3S there in any case", () => {
    const config = baseConfig();
    config.domains[0].access = [
      { match: "naver.com", action: "RELAY" },
      { match: "10.0.2.10", action: "RELAY", tag: "Connect" },
    ];
    config.domains[0].mailHost.publish = { address: "192.168.1.20", smtp: 25 };
    config.domains[1].mailHost.publish = { address: "192.168.1.20", imaps: 993, pop3s: 995 };
    const plan = resolvePlan(config, { project: "mail-lab", stack: "dev" });
    assert.deepEqual(
      plan.mailHosts.map((host) => host.publishedPorts.map((port) => `${port.hostAddress}:${port.hostPort}`)),
      [["192.168.1.20:25"], ["192.168.1.20:993", "192.168.1.20:995"]],
    );
  });

  it("publishes only the listed services, on 127.0.0.1 unless another address is written", () => {
    const config = baseConfig();
    config.domains[0].mailHost.publish = { smtp: 2525, imaps: 2993 };
    config.domains[1].mailHost.publish = { address: "127.0.0.2", submission: 3587, pop3s: 3995 };
    const plan = resolvePlan(config, { project: "mail-lab", stack: "desk" });
    assert.deepEqual(plan.mailHosts[0]!.publishedPorts, [
      { service: "smtp", containerPort: 25, hostAddress: "127.0.0.1", hostPort: 2525 },
      { service: "imaps", containerPort: 993, hostAddress: "127.0.0.1", hostPort: 2993 },
    ]);
    assert.deepEqual(plan.mailHosts[1]!.publishedPorts, [
      { service: "submission", containerPort: 587, hostAddress: "127.0.0.2", hostPort: 3587 },
      { service: "pop3s", containerPort: 995, hostAddress: "127.0.0.2", hostPort: 3995 },
    ]);
  });

  /**
   * Each bad config, and what its message must say: the key path, the quoted value, and a fix.
   * `edit` changes one thing in a fresh copy of baseConfig().
   */
});

const badDomains: BadConfig[] = [
  {
    name: "duplicate domain",
    edit: (c) => {
      c.domains[1].name = "Naver.com";
    },
    expect: [/mail-lab:domains\[1\]\.name: "naver\.com" is already declared at mail-lab:domains\[0\]/],
  },
  {
    name: "duplicate login in a domain",
    edit: (c) => {
      c.domains[0].users.push({ login: "lee", password: "x" });
    },
    expect: [/mail-lab:domains\[0\]\.users\[1\]\.login: "lee" is already used by user lee in naver\.com/],
  },
  {
    name: "alias clashing with a login",
    edit: (c) => {
      c.domains[0].users.push({ login: "park", password: "x", aliases: ["lee"] });
    },
    expect: [/mail-lab:domains\[0\]\.users\[1\]\.aliases\[0\]: "lee" is already used by user lee/],
  },
  {
    name: "system account as login",
    edit: (c) => {
      c.domains[1].users[0].login = "root";
    },
    expect: [/mail-lab:domains\[1\]\.users\[0\]\.login: "root" is a system account or reserved mail alias/],
  },
  {
    name: "access key given twice",
    edit: (c) => {
      c.domains[0].access.push({ match: "10.0.2", action: "REJECT" });
    },
    expect: [
      /mail-lab:domains\[0\]\.access\[1\]\.match: "10\.0\.2" repeats the access key of mail-lab:domains\[0\]\.access\[0\]/,
    ],
  },
  {
    name: "access key clashing with the built-in localhost entries",
    edit: (c) => {
      c.domains[0].access.push({ match: "127.0.0.1", action: "RELAY", tag: "Connect" });
    },
    expect: [
      /mail-lab:domains\[0\]\.access\[1\]\.match: "127\.0\.0\.1" repeats the access key of the built-in localhost entries/,
    ],
  },
  {
    name: "domain inside another",
    edit: (c) => {
      c.domains[1].name = "mail.naver.com";
    },
    expect: [/mail-lab:domains\[1\]\.name: "mail\.naver\.com" lies inside the lab domain naver\.com/],
  },
  {
    name: "host port published twice",
    edit: (c) => {
      c.domains[0].mailHost.publish = { imaps: 10993 };
      c.domains[1].mailHost.publish = { address: "0.0.0.0", pop3s: 10993 };
    },
    expect: [
      /mail-lab:domains\[1\]\.mailHost\.publish\.pop3s: 10993 is already published on 127\.0\.0\.1 for imaps of mail\.naver\.com/,
    ],
  },
  {
    name: "published SMTP on a LAN address with a RELAY rule that covers the gateway (open relay)",
    edit: (c) => {
      c.domains[0].mailHost.publish = { address: "192.168.1.20", smtp: 25, imaps: 993 };
    },
    expect: [
      /mail-lab:domains\[0\]\.mailHost\.publish\.address: "192\.168\.1\.20" publishes SMTP \(port 25\) beyond the Docker host, and mail-lab:domains\[0\]\.access\[0\] \("10\.0\.2 RELAY"\) relays for every connection through it, since they arrive from the gateway 10\.0\.2\.1: an open relay for that network\. Publish on 127\.0\.0\.1, leave smtp out of publish/,
    ],
  },
  {
    name: "the course's @domain and the same sender domain written From:domain are one key",
    edit: (c) => {
      c.domains[0].access.push(
        { match: "@spam.test", action: "REJECT" },
        { tag: "From", match: "spam.test", action: "DISCARD" },
      );
    },
    expect: [
      /mail-lab:domains\[0\]\.access\[2\]\.match: "spam\.test" repeats the access key of mail-lab:domains\[0\]\.access\[1\]/,
    ],
  },
];

describe("bad domains, users, access rules and ports: each problem is named, quoted and explained", () =>
  badConfigTests(badDomains));
