/** How the harness removes what it created: as the providers' deletes do. */
import { docker } from "../docker/cli";
import { execute } from "./mock-command";
import { type CreatedObject, isMissing, type MockContext } from "./mock-model";

/**
 * Removes one object. `replaced`: the object of a resource replaced create-before-delete, whose
 * image tags its successor's build has taken over, so an image goes by its own id, not its tags.
 */
export async function removeObject(
  mocks: MockContext,
  object: CreatedObject,
  replaced = false,
): Promise<string | undefined> {
  const quietly = async (argv: string[]) => {
    try {
      await docker(argv);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  };
  switch (object.kind) {
    case "container":
      if (object.destroyGraceSeconds > 0) await quietly(["stop", "-t", String(object.destroyGraceSeconds), object.id]);
      await quietly(["rm", "-f", "-v", object.id]);
      return `container ${object.name}`;
    case "volume":
      await quietly(["volume", "rm", object.name]);
      return `volume ${object.name}`;
    case "network":
      await quietly(["network", "rm", object.id]);
      return `network ${object.name}`;
    case "image":
      if (object.keepLocally) return undefined;
      await quietly([
        "image",
        "rm",
        ...(object.forceRemove ? ["-f"] : []),
        // The provider's id is the image id followed by the name.
        ...(replaced ? [object.id.slice(0, object.id.length - object.name.length)] : object.references),
      ]);
      return `image ${object.name}`;
    case "command": {
      if (!object.deleteRun) return undefined;
      const env: Record<string, string> = {};
      if (object.addPreviousOutputInEnv) {
        if (object.stdout !== "") env["PULUMI_COMMAND_STDOUT"] = object.stdout;
        if (object.stderr !== "") env["PULUMI_COMMAND_STDERR"] = object.stderr;
      }
      await execute(mocks, object.resource, object.deleteRun, env);
      return `command ${object.name} (ran its delete)`;
    }
    default: {
      const unreachable: never = object;
      throw new Error(`unknown object ${JSON.stringify(unreachable)}`);
    }
  }
}
