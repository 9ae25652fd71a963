/**
 * Sendmail's queue timing, resolved once for the plan: the config's time values (`1m`, `1h`) in
 * seconds, and when Sendmail warns a sender of a delay. The renderer and the components read the
 * results; nothing parses a time value again.
 */
import type { LabConfig } from "../config/schema";
import type { MailQueuePlan } from "./types";

/** Seconds per unit of a Sendmail time value (cf/README, "Timeout"; op guide 5.6, time intervals). */
const TIME_UNITS: readonly (readonly [unit: string, seconds: number])[] = [
  ["w", 7 * 24 * 3600],
  ["d", 24 * 3600],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
];

/** Sendmail's own delay warning (Timeout.queuewarn, cf/README): the latest the lab ever warns. */
const SENDMAIL_QUEUEWARN_SECONDS = 4 * 3600;

/**
 * Seconds of a time value as the schema admits it for `mail-lab:mailQueue` (a number and one unit
 * s, m, h, d or w). Throws on anything else, naming the key, for a plan built by hand.
 */
export function sendmailTimeSeconds(value: string, key: string): number {
  const match = /^(\d+)([smhdw])$/.exec(value);
  const factor = match ? TIME_UNITS.find(([unit]) => unit === match[2])?.[1] : undefined;
  if (!match || factor === undefined || Number(match[1]) <= 0) {
    throw new Error(`${key}: "${value}" is not a positive Sendmail time; write a number and one unit s, m, h, d or w`);
  }
  return Number(match[1]) * factor;
}

/** Seconds as a Sendmail time value in the largest unit that divides them (900 -> 15m). */
export function formatSendmailTime(seconds: number): string {
  const [unit, factor] = TIME_UNITS.find(([, size]) => seconds % size === 0)!;
  return `${seconds / factor}${unit}`;
}

/**
 * When Sendmail warns the sender that a message is still undelivered: a quarter of the queue
 * lifetime, but never later than Sendmail's own 4h; undefined (no warning) when no queue run could
 * fall between the warning and the return, i.e. when warning + run interval reaches the lifetime.
 * Sendmail checks both timeouts only on a queue run, and a message past its lifetime is returned
 * without a warning first (queue.c), so such a warning would never be seen.
 */
export function queueWarnSeconds(lifetime: number, interval: number): number | undefined {
  const warn = Math.min(Math.floor(lifetime / 4), SENDMAIL_QUEUEWARN_SECONDS);
  return warn > 0 && warn + interval < lifetime ? warn : undefined;
}

/** The plan's queue timing from `mail-lab:mailQueue` (already checked by the schema). */
export function planMailQueue(queue: LabConfig["mailQueue"]): MailQueuePlan {
  const runIntervalSeconds = sendmailTimeSeconds(queue.runInterval, "mail-lab:mailQueue.runInterval");
  const lifetimeSeconds = sendmailTimeSeconds(queue.lifetime, "mail-lab:mailQueue.lifetime");
  return {
    runInterval: queue.runInterval,
    lifetime: queue.lifetime,
    runIntervalSeconds,
    lifetimeSeconds,
    warnSeconds: queueWarnSeconds(lifetimeSeconds, runIntervalSeconds),
  };
}
