/**
 * A minimal ustar writer for container uploads. The docker provider uploads each `uploads` entry
 * as a one-file tar archive extracted at `/` (kreuzwerker/terraform-provider-docker,
 * resource_docker_container_funcs.go); the harness does the same through `docker cp - <id>:/`,
 * so the file's mode comes from the archive and missing parent directories are created by dockerd.
 */

export interface TarFile {
  /** Absolute or relative path inside the archive; a leading `/` is dropped. */
  readonly path: string;
  readonly content: Buffer;
  /** Permission bits, e.g. 0o644. */
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Seconds since the epoch; default now. */
  readonly mtime?: number;
}

const BLOCK = 512;

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > length) throw new Error(`tar: "${value}" does not fit in ${length} bytes`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new Error(`tar: ${value} does not fit in a ${length}-byte octal field`);
  writeString(header, offset, length, digits.padStart(length - 1, "0") + "\0");
}

/** Splits a long path into ustar's prefix (155 bytes) and name (100 bytes) at a `/`. */
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: "", name: path };
  for (let cut = path.indexOf("/"); cut !== -1; cut = path.indexOf("/", cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== "") return { prefix, name };
  }
  throw new Error(`tar: path "${path}" is too long for a ustar header (at most 255 bytes split at a "/")`);
}

function header(file: TarFile): Buffer {
  const path = file.path.replace(/^\/+/, "");
  if (path === "" || path.split("/").includes("..")) throw new Error(`tar: refusing path "${file.path}"`);
  const { prefix, name } = splitPath(path);
  const block = Buffer.alloc(BLOCK, 0);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, file.mode & 0o7777);
  writeOctal(block, 108, 8, file.uid ?? 0);
  writeOctal(block, 116, 8, file.gid ?? 0);
  writeOctal(block, 124, 12, file.content.length);
  writeOctal(block, 136, 12, file.mtime ?? Math.floor(Date.now() / 1000));
  block.fill(" ", 148, 156); // the checksum is computed with its own field as spaces
  block.write("0", 156, "ascii"); // regular file
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  writeString(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}

/** A complete archive holding `files`, ending with the two zero blocks. */
export function tarArchive(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(header(file), file.content);
    const padding = (BLOCK - (file.content.length % BLOCK)) % BLOCK;
    parts.push(Buffer.alloc(padding, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}
