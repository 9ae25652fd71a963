/** The schema's own rules, as the plan reports them: each problem is named, quoted and explained. */
import { describe } from "node:test";
import { type BadConfig, badConfigTests } from "../plan/test-configs";

const badShapes: BadConfig[] = [
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
    name: "not an IPv4 address",
    edit: (c) => {
      c.domains[0].mailHost.address = "10.0.2.300";
    },
    expect: [/mail-lab:domains\[0\]\.mailHost\.address: "10\.0\.2\.300" is not an IPv4 address/],
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
    name: "client user not an address",
    edit: (c) => {
      c.clients[0].user = "lee";
    },
    expect: [/mail-lab:clients\[0\]\.user: "lee" is not a mail address; write login@domain/],
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
    name: "a mail address form under tag Connect",
    edit: (c) => {
      c.domains[0].access.push({ tag: "Connect", match: "@daum.net", action: "REJECT" });
    },
    expect: [
      /mail-lab:domains\[0\]\.access\[1\]\.match: "@daum\.net" is a mail address form, but tag Connect matches the connecting host's name or address; use tag From \(sender\) or To \(recipient\)/,
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

describe("bad config shapes and values: each problem is named, quoted and explained", () => badConfigTests(badShapes));
