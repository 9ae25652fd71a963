/**
 * Which of the lab's images can go. The lab's images are shared by every stack of the Docker host
 * (named by content, `keepLocally`), so `pulumi destroy` leaves them; `npm run images:prune`
 * removes those that no container uses, whichever stack made it.
 *
 * The decision is a pure function (`planImagePrune`); `readLabImages` and `readContainers` run the
 * docker CLI without a shell.
 */
import { runSync } from "../docker/cli";
import { CONTENT_HASH_LABEL } from "./container-defaults";

/** One image of the lab: its id and every `repository:tag` it has (none when dangling). */
export interface LabImage {
  readonly id: string;
  readonly references: readonly string[];
}

/** A container (running or not) and the id of the image it was created from. */
export interface ContainerImageUse {
  readonly name: string;
  readonly imageId: string;
}

export interface ImagePrunePlan {
  /** Images no container uses, in the order given. */
  readonly remove: readonly LabImage[];
  /** Images some container uses, with those containers' names (sorted). */
  readonly keep: readonly { readonly image: LabImage; readonly usedBy: readonly string[] }[];
}

/** Keeps every image a container (running or stopped: `docker start` needs it) was created from. */
export function planImagePrune(images: readonly LabImage[], containers: readonly ContainerImageUse[]): ImagePrunePlan {
  const remove: LabImage[] = [];
  const keep: { image: LabImage; usedBy: string[] }[] = [];
  for (const image of images) {
    const usedBy = containers
      .filter((container) => container.imageId === image.id)
      .map((container) => container.name)
      .sort();
    if (usedBy.length > 0) keep.push({ image, usedBy });
    else remove.push(image);
  }
  return { remove, keep };
}

/** How an image is named in the report: its tags, or its short id when it has none. */
export function describeImage(image: LabImage): string {
  const short = image.id.replace(/^sha256:/, "").slice(0, 12);
  return image.references.length > 0 ? `${image.references.join(", ")} (${short})` : `<untagged> (${short})`;
}

function docker(args: readonly string[]): string {
  const result = runSync("docker", args);
  if (result === undefined) throw new Error("docker is not installed: the image prune needs the docker CLI");
  if (result.code !== 0)
    throw new Error(`docker ${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");

/**
 * The lab's images on the Docker host: labelled with the project and a content hash (the shared
 * images MailLab builds). Images labelled with a stack (the tests' own) belong to that stack and are
 * left to its destroy.
 */
export function readLabImages(project: string): LabImage[] {
  const listing = lines(
    docker([
      "image",
      "ls",
      "--no-trunc",
      "--filter",
      `label=mail-lab.project=${project}`,
      "--filter",
      `label=${CONTENT_HASH_LABEL}`,
      "--format",
      "{{.ID}}\t{{.Repository}}:{{.Tag}}",
    ]),
  );
  const byId = new Map<string, string[]>();
  for (const line of listing) {
    const [id = "", reference = ""] = line.split("\t");
    const references = byId.get(id) ?? [];
    if (reference !== "<none>:<none>" && !references.includes(reference)) references.push(reference);
    byId.set(id, references);
  }
  if (byId.size === 0) return [];
  // `docker image ls` cannot print labels: read them to leave out images that belong to one stack.
  const stackOf = new Map(
    lines(docker(["image", "inspect", "--format", "{{.Id}}\t{{json .Config.Labels}}", ...byId.keys()])).map((line) => {
      const [id = "", labels = "{}"] = line.split("\t");
      return [id, (JSON.parse(labels) as Record<string, string> | null)?.["mail-lab.stack"]] as const;
    }),
  );
  return [...byId]
    .filter(([id]) => stackOf.get(id) === undefined)
    .map(([id, references]) => ({ id, references: references.sort() }));
}

/** Every container of the Docker host, running or not, with its image id. */
export function readContainers(): ContainerImageUse[] {
  const ids = lines(docker(["ps", "-a", "-q", "--no-trunc"]));
  if (ids.length === 0) return [];
  return lines(docker(["container", "inspect", "--format", "{{.Name}}\t{{.Image}}", ...ids])).map((line) => {
    const [name = "", imageId = ""] = line.split("\t");
    return { name: name.replace(/^\//, ""), imageId };
  });
}

/**
 * Removes one image: by each of its tags (never `-f`, so dockerd itself refuses an image a container
 * created meanwhile uses), or by id when it has none.
 */
export function removeImage(image: LabImage): void {
  docker(["image", "rm", ...(image.references.length > 0 ? image.references : [image.id])]);
}
