import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dockerHostOf, engineConfigOf, parseStackFile } from "./load";

describe("a stack file's providers' keys", () => {
  const file = parseStackFile(
    "config:\n  docker:host: ssh://teacher@server-a\n  mail-lab:verify: false\n  mail-lab:network:\n    subnet: 10.0.2.0/24\n",
    "room-a",
  );

  it("keeps docker:host beside the mail-lab keys and hands both to the program as the engine does", () => {
    assert.deepEqual(file.config, { verify: false, network: { subnet: "10.0.2.0/24" } });
    assert.deepEqual(file.providerConfig, { "docker:host": "ssh://teacher@server-a" });
    assert.deepEqual(engineConfigOf(file.config, file.providerConfig), {
      "docker:host": "ssh://teacher@server-a",
      "mail-lab:verify": "false",
      "mail-lab:network": '{"subnet":"10.0.2.0/24"}',
    });
    assert.equal(dockerHostOf(file.providerConfig), "ssh://teacher@server-a");
  });

  it("has no engine without docker:host, and refuses an empty or non-text one", () => {
    assert.equal(dockerHostOf({}), undefined);
    assert.throws(() => dockerHostOf({ "docker:host": "" }), /docker:host must be a Docker engine address/);
    assert.throws(() => dockerHostOf({ "docker:host": 5 }), /got 5/);
  });
});
