/** The bench's readings of what the lab wrote (test/bench/bench.ts): pure, tested beside. */

/** The value at percentile `p` (nearest rank) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * When each message of the run with `subject` was received and delivered (ms since the epoch):
 * mail.daum.net's Received header (from the load generator) and the mbox's "From " line, which
 * procmail writes on mail.naver.com in the container's time zone, UTC. Both have whole seconds.
 */
export function deliveries(mbox: string, subject: string): { received: number; delivered: number }[] {
  const found: { received: number; delivered: number }[] = [];
  for (const message of mbox.split(/^(?=From )/m)) {
    const header = message.split("\n\n", 1)[0]!.replace(/\n[ \t]+/g, " ");
    if (!header.split("\n").includes(`Subject: ${subject}`)) continue;
    const delivered = /^From \S+\s+(.+)$/m.exec(header)?.[1];
    const received = /^Received: from load\.daum\.net .*? by mail\.daum\.net .*?; (.+)$/m.exec(header)?.[1];
    if (delivered === undefined || received === undefined) continue;
    found.push({ received: Date.parse(received), delivered: Date.parse(`${delivered} UTC`) });
  }
  return found;
}

const MEMORY_UNITS: Record<string, number> = {
  B: 1 / 2 ** 20,
  KiB: 1 / 1024,
  MiB: 1,
  GiB: 1024,
  kB: 1 / 1024,
  MB: 1,
  GB: 1024,
};

/** One line of `docker stats --format "{{.CPUPerc}} {{.MemUsage}}"`, e.g. "1.27% 21.5MiB / 23.5GiB". */
export function parseStatsLine(line: string): { cpuPercent: number; memoryMiB: number } | undefined {
  const match = /^([\d.]+)% ([\d.]+)(\w+) \//.exec(line.trim());
  const unit = match ? MEMORY_UNITS[match[3]!] : undefined;
  if (!match || unit === undefined) return undefined;
  return { cpuPercent: Number(match[1]), memoryMiB: Number(match[2]) * unit };
}
