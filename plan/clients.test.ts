/** The PCs: names, users, addresses and how each sends (plan/clients.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BadConfig, badConfigTests, planOf } from "./test-configs";

describe("the dev stack's clients", () => {
  const plan = planOf("dev");

  it("points each client at its user's mail host", () => {
    assert.deepEqual(
      plan.clients.map((client) => [client.key, client.email, client.mailHostFqdn, client.mailHostAddress]),
      [
        ["lee-pc", "lee@naver.com", "mail.naver.com", "10.0.2.100"],
        ["kim-pc", "kim@daum.net", "mail.daum.net", "10.0.2.200"],
      ],
    );
  });
});

describe("the campus stack's clients", () => {
  const plan = planOf("campus");

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
});

const badClients: BadConfig[] = [
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
];

describe("bad clients: each problem is named, quoted and explained", () => badConfigTests(badClients));
