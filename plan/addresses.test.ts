/** The lab network's addresses: the gateway, each host's claim, the client pool (plan/addresses.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BadConfig, badConfigTests, planOf } from "./test-configs";

describe("the campus stack's addresses", () => {
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
});

const badAddresses: BadConfig[] = [
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
    name: "gateway outside the subnet",
    edit: (c) => {
      c.network.gateway = "192.168.0.1";
    },
    expect: [/mail-lab:network\.gateway: "192\.168\.0\.1" is not a usable address of 10\.0\.2\.0\/24/],
  },
];

describe("bad addresses: each problem is named, quoted and explained", () => badConfigTests(badAddresses));
