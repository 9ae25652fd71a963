#!/bin/sh
# Healthy when named answers authoritatively on 127.0.0.1 for the first primary zone of
# named.conf (SOA, status NOERROR, aa flag, one answer). Without a primary zone, any DNS reply
# from 127.0.0.1 counts: the server is up, it just serves nothing of its own.
set -eu

if [ "${MAIL_LAB_EXERCISE:-0}" = 1 ]; then
  # An exercise host is ready once it has booted; its daemons are the student's to configure.
  [ -e /run/mail-lab/booted ] && exit 0
  echo "exercise host still booting"
  exit 1
fi

zone=$(named-checkconf -p /etc/bind/named.conf | awk '
  /^[[:space:]]*zone[[:space:]]+"/ { split($0, q, "\""); name = q[2] }
  /^[[:space:]]*type[[:space:]]+(primary|master);/ && name != "" { print name; exit }
')

if [ -z "$zone" ]; then
  dig +time=2 +tries=1 @127.0.0.1 . SOA | grep -q 'status: ' || { echo "named: no reply on 127.0.0.1"; exit 1; }
  exit 0
fi

reply=$(dig +time=2 +tries=1 +norecurse @127.0.0.1 "$zone" SOA) || { echo "named: no reply for $zone SOA"; exit 1; }
if printf '%s\n' "$reply" | grep -q 'status: NOERROR' \
  && printf '%s\n' "$reply" | grep -Eq 'flags:[a-z ]* aa[ ;]' \
  && printf '%s\n' "$reply" | grep -Eq 'ANSWER: [1-9]'; then
  exit 0
fi
echo "named: no authoritative SOA for $zone:"
printf '%s\n' "$reply"
exit 1
