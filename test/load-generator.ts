/**
 * Postfix's smtp-source, as the e2e fault tests and the bench run it in the load generator image
 * (images/load-generator): its command line and its running counter.
 */

export interface SmtpSourceRun {
  readonly sessions: number;
  readonly messages: number;
  /** Body size of each message in bytes (-l). */
  readonly bytes: number;
  readonly sender: string;
  readonly subject: string;
  /** `host:port` to send to. */
  readonly target: string;
  /** Seconds after which `timeout` stops it: no run may hang a suite or the bench. */
  readonly timeoutSeconds: number;
}

/**
 * The command after the image name in `docker run`: smtp-source from load.daum.net to
 * lee@naver.com, printing its counter (-c). Without -A it stops at the first reply that is not the
 * positive one expected, so exit 0 means every greeting, command and DATA was answered 2xx/3xx.
 */
export function smtpSourceCommand(load: SmtpSourceRun): string[] {
  return [
    "timeout",
    String(load.timeoutSeconds),
    "smtp-source",
    "-c",
    "-s",
    String(load.sessions),
    "-m",
    String(load.messages),
    "-l",
    String(load.bytes),
    "-M",
    "load.daum.net",
    "-f",
    load.sender,
    "-t",
    "lee@naver.com",
    "-S",
    load.subject,
    load.target,
  ];
}

/** smtp-source's running counter (-c) at the end: DATA commands completed with a 2xx reply. */
export function smtpSourceCompleted(stdout: string): number {
  return Math.max(
    0,
    ...stdout
      .split(/[\r\n]/)
      .filter((item) => /^\d+$/.test(item))
      .map(Number),
  );
}
