/**
 * The mail host's account list: one `login:uid:hash` line per user, from which the image's entry
 * point creates the system accounts that Sendmail delivers to and Dovecot authenticates against.
 * Pure: the same plan gives byte-identical output, so a second `pulumi up` changes nothing.
 */
import { createHash } from "node:crypto";
import type { LabPlan, MailHostPlan } from "../plan/plan";
import { generatedHeader, PATHS, type RenderedFile } from "./files";

/** uid of a mail host's first user; the n-th user (from 0) gets FIRST_USER_UID + n. */
export const FIRST_USER_UID = 2000;

/** The alphabet of crypt(3) salts and hashes, in the order its base-64 encoding uses. */
const CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Rounds when the hash has no `rounds=` prefix, as the spec fixes it. */
const DEFAULT_ROUNDS = 5000;

/** Longest salt the spec uses; glibc silently truncates longer ones. */
const MAX_SALT_LENGTH = 16;

/**
 * Order in which the 64 digest bytes are packed into groups of three before base-64 encoding,
 * most significant byte first (Drepper, "Unix crypt using SHA-256 and SHA-512", step 22 for
 * SHA-512). The last group holds byte 63 alone and gives two characters.
 */
// prettier-ignore
const SHA512_BYTE_GROUPS: readonly (readonly [number, number, number])[] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

function sha512(...parts: Buffer[]): Buffer {
  const hash = createHash("sha512");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** `length` bytes of `block` repeated, as steps 16 and 20 of the spec build the P and S sequences. */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += block.length)
    block.copy(out, offset, 0, Math.min(block.length, length - offset));
  return out;
}

function encode24(high: number, middle: number, low: number, characters: number): string {
  let word = (high << 16) | (middle << 8) | low;
  let out = "";
  for (let i = 0; i < characters; i++) {
    out += CRYPT_ALPHABET[word & 0x3f];
    word >>>= 6;
  }
  return out;
}

/**
 * SHA-512 crypt (`$6$salt$hash`) as glibc's crypt(3) and `openssl passwd -6` compute it, with the
 * default 5000 rounds and no `rounds=` prefix. Implements Ulrich Drepper's "Unix crypt using
 * SHA-256 and SHA-512" (https://www.akkadia.org/drepper/SHA-crypt.txt) on node:crypto, so the
 * project needs no native crypt binding. The password is hashed as its UTF-8 bytes.
 *
 * @param salt 1 to 16 characters from `./0-9A-Za-z`; anything else throws, because glibc would
 *   truncate or reject it and the hash would no longer match what the account gets.
 */
export function sha512Crypt(password: string, salt: string): string {
  if (salt.length === 0 || salt.length > MAX_SALT_LENGTH || [...salt].some((c) => !CRYPT_ALPHABET.includes(c))) {
    throw new Error(
      `sha512Crypt: salt ${JSON.stringify(salt)} must be 1 to ${MAX_SALT_LENGTH} characters from ./0-9A-Za-z`,
    );
  }
  const p = Buffer.from(password, "utf8");
  const s = Buffer.from(salt, "ascii");

  // Steps 4-8: digest B of password, salt, password.
  const b = sha512(p, s, p);
  // Steps 1-3, 9-12: digest A.
  const a = createHash("sha512");
  a.update(p);
  a.update(s);
  let remaining = p.length;
  for (; remaining > 64; remaining -= 64) a.update(b);
  a.update(b.subarray(0, remaining));
  for (let bits = p.length; bits > 0; bits >>= 1) a.update(bits & 1 ? b : p);
  const digestA = a.digest();
  // Steps 13-16: P sequence from the password repeated once per byte of it.
  const pSequence = repeatTo(sha512(...Array.from({ length: p.length }, () => p)), p.length);
  // Steps 17-20: S sequence from the salt repeated 16 + A[0] times.
  const sSequence = repeatTo(sha512(...Array.from({ length: 16 + digestA[0]! }, () => s)), s.length);
  // Step 21: the rounds.
  let c = digestA;
  for (let round = 0; round < DEFAULT_ROUNDS; round++) {
    const hash = createHash("sha512");
    hash.update(round & 1 ? pSequence : c);
    if (round % 3 !== 0) hash.update(sSequence);
    if (round % 7 !== 0) hash.update(pSequence);
    hash.update(round & 1 ? c : pSequence);
    c = hash.digest();
  }
  // Step 22: encoding.
  let encoded = "";
  for (const [high, middle, low] of SHA512_BYTE_GROUPS) encoded += encode24(c[high]!, c[middle]!, c[low]!, 4);
  encoded += encode24(0, 0, c[63]!, 2);
  return `$6$${salt}$${encoded}`;
}

/** 16 crypt-alphabet characters from a digest: 64 divides 256, so `byte % 64` is unbiased. */
function saltFromDigest(digest: Buffer): string {
  return Array.from(digest.subarray(0, MAX_SALT_LENGTH), (byte) => CRYPT_ALPHABET[byte % 64]).join("");
}

/**
 * A deterministic 16-character salt for one user's password.
 *
 * Why deterministic: the users file is a Pulumi input; a random salt would give a new hash, a
 * changed file and a replaced container on every `pulumi up`, where a second up must be a no-op.
 * Why the password takes part: a new password gets a new salt, so one salt never serves two
 * passwords of the same account.
 * Why not sha256 over the password directly: the salt is public (it is printed in the hash), and a
 * plain sha256 of the password in it would let anyone test guesses at sha256 speed, bypassing the
 * 5000 rounds. So the password only enters through sha512Crypt itself (under a salt fixed by
 * domain and login), and testing a guess against the salt costs as much as against the hash.
 */
export function saltFor(domain: string, login: string, password: string): string {
  const accountSalt = saltFromDigest(
    createHash("sha256").update(`mail-lab account salt\0${domain}\0${login}`).digest(),
  );
  const stretched = sha512Crypt(password, accountSalt);
  return saltFromDigest(createHash("sha256").update(`mail-lab password salt\0${stretched}`).digest());
}

/**
 * The users file for `host` at PATHS.users: the generated header, then `login:uid:hash` per user
 * in the order of the stack config. uid = FIRST_USER_UID + index, so uids stay stable while users
 * are only appended; the entry point creates the accounts with these uids and chowns their
 * mailboxes. The file holds only SHA-512 crypt hashes, never a plaintext password.
 */
export function renderUsersFile(plan: LabPlan, host: MailHostPlan): RenderedFile {
  const lines = host.users.map((user, index) => {
    const hash = sha512Crypt(user.password, saltFor(host.domain, user.login, user.password));
    return `${user.login}:${FIRST_USER_UID + index}:${hash}`;
  });
  const header = generatedHeader("#", plan.stack, [`${host.configKey}.users`]);
  return {
    path: PATHS.users,
    content: `${header}# login:uid:sha512-crypt-hash, one account per line\n${lines.map((line) => `${line}\n`).join("")}`,
    mode: "0600",
    secret: true,
  };
}
