import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deliveries, parseStatsLine, percentile } from "./figures";

/** Two messages of the run as procmail appends them, one of another run, and a folded header. */
const MBOX = `From bench-1a2b@daum.net  Wed Dec  2 11:52:03 2026
Return-Path: <bench-1a2b@daum.net>
Received: from mail.daum.net (mail.daum.net [10.0.20.200])
\tby mail.naver.com (8.17.1.9/8.17.1.9/Debian-2+deb12u2) with ESMTPS id 6B2BQ3aa000101
\tfor <lee@naver.com>; Wed, 2 Dec 2026 11:52:03 GMT
Received: from load.daum.net (load.daum.net [10.0.20.250])
\tby mail.daum.net (8.17.1.9/8.17.1.9/Debian-2+deb12u2) with ESMTP id 6B2BQ1bb000202
\tfor <lee@naver.com>; Wed, 2 Dec 2026 11:52:01 GMT
Subject: bench-1a2b

La de da de da 1.
From other@daum.net  Wed Dec  2 11:52:04 2026
Received: from load.daum.net (load.daum.net [10.0.20.250])
\tby mail.daum.net (8.17.1.9) with ESMTP id 6B2BQ1bb000203; Wed, 2 Dec 2026 11:52:00 GMT
Subject: another run

body
From bench-1a2b@daum.net  Wed Dec  2 11:52:05 2026
Received: from load.daum.net (load.daum.net [10.0.20.250])
\tby mail.daum.net (8.17.1.9/8.17.1.9/Debian-2+deb12u2) with ESMTP id 6B2BQ1bb000204
\tfor <lee@naver.com>; Wed, 2 Dec 2026 11:52:02 +0000
Subject: bench-1a2b

>From the body, quoted by procmail
`;

describe("the bench's readings", () => {
  it("reads when each message of a run was received by mail.daum.net and put in the mbox", () => {
    const at = (text: string) => Date.parse(`${text} UTC`);
    assert.deepEqual(deliveries(MBOX, "bench-1a2b"), [
      { received: at("2 Dec 2026 11:52:01"), delivered: at("2 Dec 2026 11:52:03") },
      { received: at("2 Dec 2026 11:52:02"), delivered: at("2 Dec 2026 11:52:05") },
    ]);
    assert.deepEqual(deliveries(MBOX, "bench-none"), []);
  });

  it("takes percentiles by nearest rank", () => {
    const values = [1, 1, 1, 2, 2, 2, 2, 3, 3, 9];
    assert.equal(percentile(values, 50), 2);
    assert.equal(percentile(values, 95), 9);
    assert.equal(percentile([4], 95), 4);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it("reads docker stats lines in MiB whatever the unit", () => {
    assert.deepEqual(parseStatsLine("1.27% 21.5MiB / 23.5GiB"), { cpuPercent: 1.27, memoryMiB: 21.5 });
    assert.deepEqual(parseStatsLine("0.00% 512KiB / 23.5GiB"), { cpuPercent: 0, memoryMiB: 0.5 });
    assert.deepEqual(parseStatsLine("12.5% 1.5GiB / 23.5GiB"), { cpuPercent: 12.5, memoryMiB: 1536 });
    assert.equal(parseStatsLine("--% -- / --"), undefined);
  });
});
