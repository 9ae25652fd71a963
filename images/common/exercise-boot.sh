#!/bin/bash
# Exercise mode (stack key mail-lab:exercise, env MAIL_LAB_EXERCISE=1): the host boots as the
# course's machine does after `dnf install`: the packages' stock configuration, the daemons started
# by their init scripts through mail-lab's systemctl, and nothing of the lab's configuration. The
# student configures it by hand. A daemon that fails to start (the student's broken file) is
# reported in the log and left stopped: the container keeps running so that the student can fix
# the file and `systemctl restart` it. Arguments: the host's services, in start order.
# `reboot` (TERM to PID 1) stops them and ends the container; Docker's restart policy boots it again.
set -u

booted=/run/mail-lab/booted
log=/var/log/syslog
rm -f "$booted"

# resolv.conf (the lab's name server) and the lab CA: the lab's part of the machine, not the course's.
/usr/local/lib/mail-lab/lab-init.sh || exit 1

# A restarted container keeps /run: pid files of the previous boot name no process, or another one.
rm -f /run/named/named.pid /run/sendmail/mta/sendmail.pid /run/dovecot/master.pid

# The daemons log to syslog. busybox syslogd writes /var/log/syslog (CentOS's course reads
# /var/log/maillog: the same file), `systemctl status` and `journalctl` read it, and `tail -F`
# copies it to `docker logs`.
rm -f /dev/log
mkdir -p /var/log
touch "$log"
ln -sf syslog /var/log/maillog
busybox syslogd -n -O "$log" &
syslogd_pid=$!
for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
tail -n 0 -F "$log" 2>/dev/null &
tail_pid=$!

shutdown() {
  local index
  echo "exercise: stopping" >&2
  for ((index = ${#services[@]} - 1; index >= 0; index--)); do
    systemctl --quiet stop "${services[index]}" 2>&1 | sed 's/^/exercise: /' >&2
  done
  kill -TERM "$tail_pid" "$syslogd_pid" 2>/dev/null
  exit 0
}
services=("$@")
trap shutdown TERM INT

for service in "${services[@]}"; do
  if ! systemctl --quiet is-enabled "$service"; then
    echo "exercise: $service is disabled (systemctl enable $service starts it at boot)" >&2
    continue
  fi
  if ! systemctl start "$service" >/dev/null 2>&1; then
    echo "exercise: $service did not start: see systemctl status $service; fix its configuration, then systemctl restart $service" >&2
  fi
done
: >"$booted"
echo "exercise: host booted; services: $(systemctl list-units | awk '{printf "%s %s; ", $1, $2}')" >&2

while :; do
  sleep infinity &
  wait $!
done
