#!/bin/sh
# mail-lab name server: common init, check named.conf and its zones, then run named in the
# foreground with every log line on stderr (-g). Exits non-zero with the checker's message when
# the configuration is broken, so that the mistake shows in `docker logs`.
set -eu

conf=/etc/bind/named.conf

if [ "${MAIL_LAB_EXERCISE:-0}" = 1 ]; then exec /usr/local/lib/mail-lab/exercise-boot.sh named; fi

/usr/local/lib/mail-lab/lab-init.sh

# `directory "/var/cache/bind"` may be an empty volume; named (as bind) writes there.
mkdir -p /var/cache/bind /run/named
chown root:bind /var/cache/bind && chmod 0775 /var/cache/bind
chown bind:bind /run/named
# A restarted container keeps /run: a stale pid file is not an error for named, but remove it
# so that nothing mistakes it for a live server.
rm -f /run/named/named.pid

if ! out=$(named-checkconf -z "$conf" 2>&1); then
  printf "name-server: %s does not pass named-checkconf -z:\n%s\n" "$conf" "$out" >&2
  exit 1
fi

exec named -g -u bind -c "$conf"
