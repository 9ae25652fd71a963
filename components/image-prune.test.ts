/** npm run images:prune's decision: an image goes only when no container, running or stopped, uses it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeImage, planImagePrune } from "./image-prune";

const image = (id: string, ...references: string[]) => ({ id: `sha256:${id.padEnd(64, "0")}`, references });

describe("planImagePrune", () => {
  const client = image("c1", "mail-lab-client:aaaaaaaaaaaa");
  const mailHost = image("m1", "mail-lab-mail-host:bbbbbbbbbbbb");
  const old = image("01d");

  it("keeps the images containers use, naming them, and removes the rest", () => {
    const plan = planImagePrune(
      [client, mailHost, old],
      [
        { name: "mail-lab-dev-lee-pc", imageId: client.id },
        { name: "mail-lab-campus-kim-pc", imageId: client.id },
        { name: "someone-else", imageId: "sha256:ffff" },
      ],
    );
    assert.deepEqual(plan.keep, [{ image: client, usedBy: ["mail-lab-campus-kim-pc", "mail-lab-dev-lee-pc"] }]);
    assert.deepEqual(plan.remove, [mailHost, old]);
  });

  it("removes everything when no container is left, and nothing when there is no image", () => {
    assert.deepEqual(planImagePrune([client, mailHost], []), { remove: [client, mailHost], keep: [] });
    assert.deepEqual(planImagePrune([], [{ name: "x", imageId: client.id }]), { remove: [], keep: [] });
  });

  it("names an image by its tags and short id, or as untagged", () => {
    assert.equal(describeImage(client), "mail-lab-client:aaaaaaaaaaaa (c10000000000)");
    assert.equal(describeImage(old), "<untagged> (01d000000000)");
  });
});
