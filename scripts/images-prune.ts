/**
 * `npm run images:prune [-- --dry-run]`: removes the lab's images that no container uses.
 *
 * The lab's images are named by content and shared by every stack of the Docker host, so
 * `pulumi destroy` leaves them (another stack may run them). This removes those of them (labelled
 * mail-lab.project=mail-lab and mail-lab.content-hash) that no container, running or stopped, was
 * created from, and prints for each image what it did and why. Exits 1 if an image could not be removed.
 */
import { describeImage, planImagePrune, readContainers, readLabImages, removeImage } from "../components/image-prune";
import { PROJECT } from "../config/errors";

function main(argv: readonly string[]): number {
  const dryRun = argv.includes("--dry-run");
  if (argv.some((arg) => arg !== "--dry-run")) {
    console.error("usage: npm run images:prune [-- --dry-run]");
    return 2;
  }
  let plan;
  try {
    plan = planImagePrune(readLabImages(PROJECT), readContainers());
  } catch (error) {
    console.error(`images:prune: cannot list images and containers: ${(error as Error).message}`);
    return 1;
  }
  let removed = 0;
  let failed = 0;
  for (const { image, usedBy } of plan.keep) {
    console.log(`kept ${describeImage(image)}: used by ${usedBy.join(", ")}`);
  }
  for (const image of plan.remove) {
    if (dryRun) {
      console.log(`would remove ${describeImage(image)}: no container uses it`);
      continue;
    }
    try {
      removeImage(image);
      removed++;
      console.log(`removed ${describeImage(image)}: no container uses it`);
    } catch (error) {
      failed++;
      const stderr = (error as { stderr?: string }).stderr?.trim();
      console.log(`kept ${describeImage(image)}: docker refused to remove it: ${stderr || (error as Error).message}`);
    }
  }
  const total = plan.keep.length + plan.remove.length;
  console.log(
    total === 0
      ? "images:prune: no mail-lab image on this Docker host"
      : dryRun
        ? `images:prune: would remove ${plan.remove.length}, keep ${plan.keep.length} of ${total} mail-lab image(s)`
        : `images:prune: removed ${removed}, kept ${total - removed} of ${total} mail-lab image(s)`,
  );
  return failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
