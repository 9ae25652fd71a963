/** An image is rebuilt exactly when the files it is built from change. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { imageContentHash, ROLES } from "./MailLab";

const copy = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-images-"));
fs.cpSync(path.join(__dirname, "..", "images"), copy, { recursive: true });
after(() => fs.rmSync(copy, { recursive: true, force: true }));

const hashes = () => Object.fromEntries(ROLES.map((role) => [role, imageContentHash(copy, role)]));

describe("imageContentHash", () => {
  it("is stable while nothing changes", () => {
    assert.deepEqual(hashes(), hashes());
    assert.equal(imageContentHash(copy, "client"), imageContentHash(path.join(__dirname, "..", "images"), "client"));
  });

  it("changes for one role when its folder changes, and for none other", () => {
    const before = hashes();
    fs.appendFileSync(path.join(copy, "client", "Dockerfile"), "\n# changed\n");
    const afterChange = hashes();
    assert.notEqual(afterChange.client, before.client);
    assert.equal(afterChange["mail-host"], before["mail-host"]);
    assert.equal(afterChange["name-server"], before["name-server"]);
  });

  it("changes for every role when common/ changes", () => {
    const before = hashes();
    fs.appendFileSync(path.join(copy, "common", "lab-init.sh"), "\n# changed\n");
    const afterChange = hashes();
    for (const role of ROLES) assert.notEqual(afterChange[role], before[role], role);
  });

  it("changes when a script loses its executable bit", () => {
    const before = imageContentHash(copy, "name-server");
    fs.chmodSync(path.join(copy, "name-server", "entrypoint.sh"), 0o644);
    assert.notEqual(imageContentHash(copy, "name-server"), before);
  });
});
