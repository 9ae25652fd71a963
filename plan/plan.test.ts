import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../config/errors";
import { readStackFile } from "../config/load";
import { allHosts, answerKeyOf, type LabPlan, resolvePlan } from "./plan";

const stacksDir = path.join(__dirname, "..", "stacks");

function planOf(stack: string): LabPlan {
  const file = readStackFile(path.join(stacksDir, `Pulumi.${stack}.yaml`));
  return resolvePlan(file.config, { project: "mail-lab", stack: file.stack });
}

/** A valid minimal config; each bad case below changes one thing in a copy of it. */
function baseConfig(): Record<string, any> {
  return {
    network: { subnet: "10.0.2.0/24" },
    nameServer: { address: "10.0.2.53" },
    domains: [
      {
        name: "naver.com",
        mailHost: { address: "10.0.2.100" },
        users: [{ login: "lee", password: "lee" }],
        access: [{ match: "10.0.2", action: "RELAY" }],
      },
      { name: "daum.net", mailHost: { address: "10.0.2.200" }, users: [{ login: "kim", password: "kim" }] },
    ],
    clients: [{ name: "lee-pc", user: "lee@naver.com" }],
  };
}

function problemsOf(config: unknown): string[] {
  try {
    resolvePlan(config, { project: "mail-lab", stack: "test" });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems.map((problem) => problem.message);
  }
  assert.fail("the config was accepted");
}

describe("the dev stack's plan", () => {
  const plan = planOf("dev");

  it("places every host at the course's addresses with FQDN hostnames", () => {
    assert.deepEqual(
      allHosts(plan).map((host) => [host.role, host.containerName, host.fqdn, host.address]),
      [
        ["name-server", "mail-lab-dev-ns", "ns.naver.com", "10.0.2.53"],
        ["mail-host", "mail-lab-dev-mail-naver-com", "mail.naver.com", "10.0.2.100"],
        ["mail-host", "mail-lab-dev-mail-daum-net", "mail.daum.net", "10.0.2.200"],
        ["client", "mail-lab-dev-lee-pc", "lee-pc.naver.com", "10.0.2.10"],
        ["client", "mail-lab-dev-kim-pc", "kim-pc.daum.net", "10.0.2.11"],
      ],
    );
    assert.deepEqual(plan.network, {
      name: "mail-lab-dev-net",
      subnet: "10.0.2.0/24",
      gateway: "10.0.2.1",
      reverseZone: "2.0.10.in-addr.arpa",
    });
  });

  it("gives each domain NS, A and MX 10 records for its mail host", () => {
    const naver = plan.zones.find((zone) => zone.name === "naver.com")!;
    assert.deepEqual(naver.records, [
      { owner: "@", type: "NS", target: "ns.naver.com" },
      { owner: "@", type: "A", address: "10.0.2.100" },
      { owner: "@", type: "MX", priority: 10, target: "mail.naver.com" },
      { owner: "ns", type: "A", address: "10.0.2.53" },
      { owner: "mail", type: "A", address: "10.0.2.100" },
      { owner: "lee-pc", type: "A", address: "10.0.2.10" },
    ]);
    const daum = plan.zones.find((zone) => zone.name === "daum.net")!;
    assert.ok(daum.records.some((record) => record.type === "MX" && record.target === "mail.daum.net"));
  });

  it("has a PTR for every host in the subnet's reverse zone", () => {
    const reverse = plan.zones.find((zone) => zone.kind === "reverse")!;
    assert.equal(reverse.name, "2.0.10.in-addr.arpa");
    assert.deepEqual(
      reverse.records
        .filter((record) => record.type === "PTR")
        .map((record) => [record.owner, "target" in record && record.target]),
      [
        ["10", "lee-pc.naver.com"],
        ["11", "kim-pc.daum.net"],
        ["53", "ns.naver.com"],
        ["100", "mail.naver.com"],
        ["200", "mail.daum.net"],
      ],
    );
  });

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

  it("points each client at its user's mail host", () => {
    assert.deepEqual(
      plan.clients.map((client) => [client.key, client.email, client.mailHostFqdn, client.mailHostAddress]),
      [
        ["lee-pc", "lee@naver.com", "mail.naver.com", "10.0.2.100"],
        ["kim-pc", "kim@daum.net", "mail.daum.net", "10.0.2.200"],
      ],
    );
  });

  it("is the same plan every time", () => {
    assert.deepEqual(planOf("dev"), plan);
  });
});

describe("the campus stack's plan", () => {
  const plan = planOf("campus");

  it("allocates a client address deterministically around the explicit ones", () => {
    assert.deepEqual(
      plan.clients.map((client) => [client.key, client.address]),
      [
        ["lee-pc", "172.30.5.21"],
        ["kim-pc", "172.30.5.22"],
        ["park-pc", "172.30.5.10"],
        ["outsider-pc", "172.30.5.99"],
      ],
    );
  });

  it("sends on 25 from PCs the access rules relay for, and on 587 with AUTH from the others", () => {
    assert.deepEqual(
      plan.clients.map((client) => [client.key, client.submission.port, client.submission.authenticate]),
      [
        ["lee-pc", 25, false],
        ["kim-pc", 25, false],
        ["park-pc", 25, false],
        ["outsider-pc", 587, true],
      ],
    );
    assert.ok(
      planOf("dev").clients.every((client) => client.submission.port === 25),
      "the course relays for 10.0.2",
    );
  });

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

describe("a /20 subnet", () => {
  it("uses the covering /16 reverse zone and one access prefix per /24", () => {
    const config = baseConfig();
    config.network = { subnet: "10.8.16.0/20" };
    config.nameServer = { address: "10.8.16.53" };
    config.domains[0].mailHost.address = "10.8.17.100";
    config.domains[1].mailHost.address = "10.8.31.200";
    const plan = resolvePlan(config, { project: "mail-lab", stack: "wide" });
    assert.equal(plan.network.reverseZone, "8.10.in-addr.arpa");
    const reverse = plan.zones.at(-1)!;
    assert.ok(reverse.records.some((record) => record.owner === "100.17" && record.type === "PTR"));
    assert.equal(plan.mailHosts[0]!.labAccessPrefixes.length, 16);
    assert.equal(plan.mailHosts[0]!.labAccessPrefixes[0], "10.8.16");
    assert.equal(plan.mailHosts[0]!.labAccessPrefixes[15], "10.8.31");
  });
});

describe("defaults", () => {
  it("keeps the smallest config short", () => {
    const plan = resolvePlan(
      {
        network: { subnet: "192.168.77.0/24" },
        domains: [{ name: "example.org", mailHost: { address: "192.168.77.25" } }],
      },
      { project: "mail-lab", stack: "tiny" },
    );
    assert.equal(plan.network.gateway, "192.168.77.1");
    assert.equal(plan.nameServer.address, "192.168.77.2");
    assert.equal(plan.nameServer.fqdn, "ns.example.org");
    assert.equal(plan.nameServer.ttl, "3H");
    assert.deepEqual(plan.nameServer.soa, { refresh: "1D", retry: "1H", expire: "1W", negativeTtl: "1H" });
    assert.equal(plan.mailHosts[0]!.fqdn, "mail.example.org");
    assert.equal(plan.mailHosts[0]!.maxMessageSize, 10485760);
    assert.equal(plan.baseImage, "debian:bookworm-slim");
    assert.deepEqual(plan.mailQueue, {
      runInterval: "1m",
      lifetime: "1h",
      runIntervalSeconds: 60,
      lifetimeSeconds: 3600,
      warnSeconds: 900,
    });
    assert.equal(plan.verify, true);
    assert.equal(plan.exercise, false);
    assert.deepEqual(plan.mailHosts[0]!.publishedPorts, [], "nothing is published unless asked");
  });

  it("makes an exercise lab that runs no self-check, with the configured lab as its answer key", () => {
    const configured = resolvePlan(baseConfig(), { project: "mail-lab", stack: "test" });
    const exercise = resolvePlan({ ...baseConfig(), exercise: true }, { project: "mail-lab", stack: "test" });
    assert.equal(exercise.exercise, true);
    assert.equal(exercise.verify, false, "its round trip fails until the students are done");
    assert.deepEqual(answerKeyOf(exercise), { ...configured, verify: false });
    assert.equal(answerKeyOf(configured), configured);
  });

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
});

/**
 * Each bad config, and what its message must say: the key path, the quoted value, and a fix.
 * `edit` changes one thing in a fresh copy of baseConfig().
 */
const badConfigs: { name: string; edit: (config: Record<string, any>) => void; expect: RegExp[] }[] = [
  {
    name: "misspelt key, with the nearest valid key suggested",
    edit: (c) => {
      c.domains[0].maxMesageSize = "10MB";
    },
    expect: [/mail-lab:domains\[0\]\.maxMesageSize: unknown key "maxMesageSize"; did you mean `maxMessageSize`\?/],
  },
  {
    name: "unknown top-level key",
    edit: (c) => {
      c.domain = [];
    },
    expect: [/mail-lab:domain: unknown key "domain"; did you mean `domains`\?/],
  },
  {
    name: "unrelated unknown key lists the valid keys",
    edit: (c) => {
      c.network.colour = "blue";
    },
    expect: [/mail-lab:network\.colour: unknown key "colour"; remove it Valid keys here: name, subnet, gateway\./],
  },
  {
    name: "subnet missing",
    edit: (c) => {
      delete c.network.subnet;
    },
    expect: [/mail-lab:network\.subnet is missing: it must be a CIDR such as 10\.0\.2\.0\/24/],
  },
  {
    name: "subnet not CIDR",
    edit: (c) => {
      c.network.subnet = "10.0.2.0";
    },
    expect: [/mail-lab:network\.subnet: "10\.0\.2\.0" is not in CIDR form/],
  },
  {
    name: "subnet with host bits",
    edit: (c) => {
      c.network.subnet = "10.0.2.7/24";
    },
    expect: [
      /mail-lab:network\.subnet: "10\.0\.2\.7\/24" has host bits set; the network address for \/24 is 10\.0\.2\.0\/24/,
    ],
  },
  {
    name: "mail host outside the subnet",
    edit: (c) => {
      c.domains[1].mailHost.address = "10.0.3.200";
    },
    expect: [
      /mail-lab:domains\[1\]\.mailHost\.address: "10\.0\.3\.200" is outside the subnet 10\.0\.2\.0\/24; use an address from 10\.0\.2\.2 to 10\.0\.2\.254/,
    ],
  },
  {
    name: "network address",
    edit: (c) => {
      c.domains[0].mailHost.address = "10.0.2.0";
    },
    expect: [/mail-lab:domains\[0\]\.mailHost\.address: "10\.0\.2\.0" is the network address of 10\.0\.2\.0\/24/],
  },
  {
    name: "broadcast address",
    edit: (c) => {
      c.nameServer.address = "10.0.2.255";
    },
    expect: [/mail-lab:nameServer\.address: "10\.0\.2\.255" is the broadcast address of 10\.0\.2\.0\/24/],
  },
  {
    name: "gateway address",
    edit: (c) => {
      c.clients[0].address = "10.0.2.1";
    },
    expect: [/mail-lab:clients\[0\]\.address: "10\.0\.2\.1" is the network's gateway/],
  },
  {
    name: "address used twice",
    edit: (c) => {
      c.domains[1].mailHost.address = "10.0.2.100";
    },
    expect: [
      /mail-lab:domains\[1\]\.mailHost\.address: "10\.0\.2\.100" is already the address of the mail host mail\.naver\.com/,
    ],
  },
  {
    name: "not an IPv4 address",
    edit: (c) => {
      c.domains[0].mailHost.address = "10.0.2.300";
    },
    expect: [/mail-lab:domains\[0\]\.mailHost\.address: "10\.0\.2\.300" is not an IPv4 address/],
  },
  {
    name: "gateway outside the subnet",
    edit: (c) => {
      c.network.gateway = "192.168.0.1";
    },
    expect: [/mail-lab:network\.gateway: "192\.168\.0\.1" is not a usable address of 10\.0\.2\.0\/24/],
  },
  {
    name: "invalid domain name",
    edit: (c) => {
      c.domains[0].name = "naver..com";
    },
    expect: [/mail-lab:domains\[0\]\.name: "naver\.\.com" is not a valid domain name \(RFC 1123\)/],
  },
  {
    name: "domain with an underscore",
    edit: (c) => {
      c.domains[1].name = "daum_net.kr";
    },
    expect: [/mail-lab:domains\[1\]\.name: "daum_net\.kr" is not a valid domain name/],
  },
  {
    name: "duplicate domain",
    edit: (c) => {
      c.domains[1].name = "Naver.com";
    },
    expect: [/mail-lab:domains\[1\]\.name: "naver\.com" is already declared at mail-lab:domains\[0\]/],
  },
  {
    name: "host name with a dot",
    edit: (c) => {
      c.domains[0].mailHost.hostName = "mail.x";
    },
    expect: [/mail-lab:domains\[0\]\.mailHost\.hostName: "mail\.x" is not a valid host name label/],
  },
  {
    name: "invalid login",
    edit: (c) => {
      c.domains[0].users[0].login = "Lee Kim";
    },
    expect: [/mail-lab:domains\[0\]\.users\[0\]\.login: "Lee Kim" is not a valid login name/],
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
    name: "empty password",
    edit: (c) => {
      c.domains[0].users[0].password = "";
    },
    expect: [/mail-lab:domains\[0\]\.users\[0\]\.password: "" is empty; give the user a password/],
  },
  {
    name: "password missing",
    edit: (c) => {
      delete c.domains[1].users[0].password;
    },
    expect: [/mail-lab:domains\[1\]\.users\[0\]\.password is missing: it must be a non-empty password/],
  },
  {
    name: "client of an unknown user",
    edit: (c) => {
      c.clients[0].user = "park@naver.com";
    },
    expect: [/mail-lab:clients\[0\]\.user: "park@naver\.com" is not a user of naver\.com \(users: lee\)/],
  },
  {
    name: "client of an unknown domain",
    edit: (c) => {
      c.clients[0].user = "lee@nate.com";
    },
    expect: [
      /mail-lab:clients\[0\]\.user: "lee@nate\.com" names domain nate\.com, which is not in mail-lab:domains \(naver\.com, daum\.net\)/,
    ],
  },
  {
    name: "client user not an address",
    edit: (c) => {
      c.clients[0].user = "lee";
    },
    expect: [/mail-lab:clients\[0\]\.user: "lee" is not a mail address; write login@domain/],
  },
  {
    name: "duplicate client name",
    edit: (c) => {
      c.clients.push({ name: "lee-pc", user: "kim@daum.net" });
    },
    expect: [/mail-lab:clients\[1\]\.name: "lee-pc" is already the name of another client/],
  },
  {
    name: "client named like the mail host",
    edit: (c) => {
      c.clients[0].name = "mail";
    },
    expect: [/mail-lab:clients\[0\]\.name: "mail" would give the client the FQDN mail\.naver\.com/],
  },
  {
    name: "unknown access action",
    edit: (c) => {
      c.domains[0].access[0].action = "ALLOW";
    },
    expect: [/mail-lab:domains\[0\]\.access\[0\]\.action: "ALLOW" must be one of RELAY, OK, REJECT, DISCARD, ERROR/],
  },
  {
    name: "malformed access match",
    edit: (c) => {
      c.domains[0].access[0].match = "10.0.300";
    },
    expect: [/mail-lab:domains\[0\]\.access\[0\]\.match: "10\.0\.300" is not a valid IPv4 prefix/],
  },
  {
    name: "ERROR rule without a reply",
    edit: (c) => {
      c.domains[0].access.push({ match: "spammer@", action: "ERROR" });
    },
    expect: [/mail-lab:domains\[0\]\.access\[1\]\.message is missing: it is not a valid reply for action ERROR/],
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
    name: "message on a RELAY rule",
    edit: (c) => {
      c.domains[0].access[0].message = "hello";
    },
    expect: [/mail-lab:domains\[0\]\.access\[0\]\.message: "hello" is only used with action ERROR/],
  },
  {
    name: "unknown access tag",
    edit: (c) => {
      c.domains[0].access[0].tag = "Rcpt";
    },
    expect: [/mail-lab:domains\[0\]\.access\[0\]\.tag: "Rcpt" must be one of Connect, From, To/],
  },
  {
    name: "zero message size",
    edit: (c) => {
      c.domains[0].maxMessageSize = 0;
    },
    expect: [/mail-lab:domains\[0\]\.maxMessageSize: 0 is not a positive message size/],
  },
  {
    name: "message size with an unknown unit",
    edit: (c) => {
      c.domains[1].maxMessageSize = "10 megs";
    },
    expect: [
      /mail-lab:domains\[1\]\.maxMessageSize: "10 megs" is not a positive message size; write a whole number of bytes or a size such as "10MB"/,
    ],
  },
  {
    name: "no domains",
    edit: (c) => {
      c.domains = [];
    },
    expect: [/mail-lab:domains: \[\] is empty; declare at least one mail domain/],
  },
  {
    name: "bad SOA timer",
    edit: (c) => {
      c.nameServer.soa = { refresh: "one day" };
    },
    expect: [/mail-lab:nameServer\.soa\.refresh: "one day" is not a BIND time/],
  },
  {
    name: "domain inside another",
    edit: (c) => {
      c.domains[1].name = "mail.naver.com";
    },
    expect: [/mail-lab:domains\[1\]\.name: "mail\.naver\.com" lies inside the lab domain naver\.com/],
  },
  {
    name: "publish with no service",
    edit: (c) => {
      c.domains[0].mailHost.publish = {};
    },
    expect: [
      /mail-lab:domains\[0\]\.mailHost\.publish: \{.*\} publishes nothing; give host ports for at least one of smtp, submission, imaps, pop3s/,
    ],
  },
  {
    name: "published port out of range",
    edit: (c) => {
      c.domains[0].mailHost.publish = { imaps: 70000 };
    },
    expect: [/mail-lab:domains\[0\]\.mailHost\.publish\.imaps: 70000 is not a TCP port; use 1 to 65535/],
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
    name: "a mail address form under tag Connect",
    edit: (c) => {
      c.domains[0].access.push({ tag: "Connect", match: "@daum.net", action: "REJECT" });
    },
    expect: [
      /mail-lab:domains\[0\]\.access\[1\]\.match: "@daum\.net" is a mail address form, but tag Connect matches the connecting host's name or address; use tag From \(sender\) or To \(recipient\)/,
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
  {
    name: "queue time without a unit",
    edit: (c) => {
      c.mailQueue = { lifetime: "90" };
    },
    expect: [/mail-lab:mailQueue\.lifetime: "90" is not a positive time; write a number and one unit s, m, h, d or w/],
  },
  {
    name: "verify not a boolean",
    edit: (c) => {
      c.verify = "yes";
    },
    expect: [/mail-lab:verify: "yes" must be true or false/],
  },
  {
    name: "exercise not a boolean",
    edit: (c) => {
      c.exercise = "on";
    },
    expect: [/mail-lab:exercise: "on" must be true or false/],
  },
  {
    name: "wrong type for users",
    edit: (c) => {
      c.domains[0].users = "lee";
    },
    expect: [/mail-lab:domains\[0\]\.users: "lee" must be a list/],
  },
];

describe("bad config: each problem is named, quoted and explained", () => {
  it("has at least 20 cases", () => assert.ok(badConfigs.length >= 20));
  for (const { name, edit, expect } of badConfigs) {
    it(name, () => {
      const config = baseConfig();
      edit(config);
      const messages = problemsOf(config);
      for (const pattern of expect) {
        assert.ok(
          messages.some((message) => pattern.test(message)),
          `no message matches ${pattern}; got:\n${messages.join("\n")}`,
        );
      }
    });
  }

  it("reports every problem at once: shape and cross-field problems together", () => {
    const config = baseConfig();
    config.domains[0].users[0].password = ""; // shape
    config.domains[0].maxMesageSize = 1; // shape: unknown key
    config.domains[1].mailHost.address = "10.9.9.9"; // cross-field: outside the subnet
    config.clients.push({ name: "lee-pc", user: "kim@daum.net" }); // cross-field: duplicate name
    const messages = problemsOf(config);
    assert.equal(messages.length, 4, messages.join("\n"));
    assert.match(messages.join("\n"), /users\[0\]\.password: "" is empty/);
    assert.match(messages.join("\n"), /maxMesageSize: unknown key/);
    assert.match(messages.join("\n"), /domains\[1\]\.mailHost\.address: "10\.9\.9\.9" is outside the subnet/);
    assert.match(messages.join("\n"), /clients\[1\]\.name: "lee-pc" is already the name of another client/);
  });

  it("does not guess about clients of a user that failed the schema", () => {
    const config = baseConfig();
    config.domains[0].users[0].login = "Lee"; // the client lee-pc names lee@naver.com
    const messages = problemsOf(config);
    assert.deepEqual(messages.length, 1, messages.join("\n"));
  });

  it("prints one readable block", () => {
    const config = baseConfig();
    config.domains[0].mailHost.address = "10.0.3.1";
    try {
      resolvePlan(config, { project: "mail-lab", stack: "test" });
      assert.fail("accepted");
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        /^The mail-lab stack config has 1 problem:\n {2}- mail-lab:domains\[0\]\.mailHost\.address/,
      );
    }
  });
});
