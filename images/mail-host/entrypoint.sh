#!/bin/bash
# mail-lab mail host: common init, accounts, Sendmail and Dovecot config checks, then
# busybox syslogd (Sendmail's log to stdout), saslauthd (SMTP AUTH passwords), `sendmail -bD`
# and `dovecot -F` in the foreground.
# Any broken piece of configuration stops the start with the checking tool's message and a
# non-zero exit; if one daemon dies later, the others are stopped and the container exits
# non-zero, so that Docker's restart policy applies.
set -euo pipefail

users_file=/etc/mail-lab/users
tls_dir=/etc/mail-lab/tls
queue_interval=${QUEUE_INTERVAL:-1m}

if [ "${MAIL_LAB_EXERCISE:-0}" = 1 ]; then exec /usr/local/lib/mail-lab/exercise-boot.sh sendmail dovecot; fi

fail() {
  printf 'mail-host: %s\n' "$1" >&2
  if [ $# -gt 1 ]; then printf '%s\n' "$2" >&2; fi
  exit 1
}

/usr/local/lib/mail-lab/lab-init.sh

# Sendmail sleeps 60 s per attempt when its host name is unqualified ("WHO AM I?").
fqdn=$(hostname -f 2>/dev/null || hostname)
case $fqdn in
  *.*) ;;
  *) fail "host name \"$fqdn\" is not qualified: give the container its FQDN as hostname (e.g. mail.naver.com)" ;;
esac

[[ $queue_interval =~ ^([0-9]+[smhdw]?)+$ ]] \
  || fail "QUEUE_INTERVAL=\"$queue_interval\" is not a sendmail queue interval such as 30s, 1m or 1h30m"

# --- accounts ----------------------------------------------------------------------------
# Lines `login:uid:hash` (sha512-crypt); `login:hash` lets useradd pick the uid. # comments.
# Mailboxes may sit on a volume from an earlier container with other uids: chown every start.
if [ -f "$users_file" ]; then
  line_no=0
  while IFS= read -r line || [ -n "$line" ]; do
    line_no=$((line_no + 1))
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    IFS=: read -r login f2 f3 rest <<<"$line"
    if [ -n "$f3" ]; then uid=$f2 hash=$f3; else uid='' hash=$f2; fi
    [[ $login =~ ^[a-z_][a-z0-9_-]*$ ]] \
      || fail "$users_file line $line_no: login \"$login\" is not a valid user name"
    [[ -z $uid || $uid =~ ^[0-9]+$ ]] \
      || fail "$users_file line $line_no: uid \"$uid\" of $login is not a number"
    [[ -n $hash && -z $rest ]] \
      || fail "$users_file line $line_no: expected login:uid:hash for $login"
    if id -u "$login" >/dev/null 2>&1; then
      # Never hand a password to an account of the image itself (root, smmta, dovecot ...).
      [ "$(id -u "$login")" -ge 1000 ] \
        || fail "$users_file line $line_no: $login is a system account of the image; choose another login"
      args=(-p "$hash")
      if [ -n "$uid" ] && [ "$(id -u "$login")" != "$uid" ]; then args+=(-u "$uid"); fi
      out=$(usermod "${args[@]}" "$login" 2>&1) || fail "usermod $login failed:" "$out"
    else
      args=(-m -p "$hash" -s /usr/sbin/nologin)
      if [ -n "$uid" ]; then args+=(-u "$uid"); fi
      out=$(useradd "${args[@]}" "$login" 2>&1) || fail "useradd $login failed:" "$out"
    fi
    mailbox=/var/mail/$login
    if [ ! -e "$mailbox" ]; then
      install -m 0660 -o "$login" -g mail /dev/null "$mailbox"
    else
      chown "$login:mail" "$mailbox" && chmod 0660 "$mailbox"
    fi
  done < "$users_file"
fi

# A mailbox's dotlock (/var/mail/<login>.lock, taken by procmail and by Dovecot) left by a
# container that was killed or restarted mid-delivery belongs to no process now: nothing else uses
# these volumes. procmail would wait up to 17 minutes (its LOCKTIMEOUT) before it calls such a lock
# stale, and every delivery to that mailbox would wait with it.
for lock in /var/mail/*.lock; do
  [ -e "$lock" ] || continue
  rm -f -- "$lock"
  printf 'mail-host: removed the stale mailbox lock %s\n' "$lock" >&2
done

# --- TLS ---------------------------------------------------------------------------------
# Sendmail refuses a key that others can read; Dovecot reads it as root before dropping privileges.
if [ -d "$tls_dir" ]; then
  chown root:root "$tls_dir" && chmod 0755 "$tls_dir"
  for pem in cert.pem ca.pem; do
    if [ -f "$tls_dir/$pem" ]; then chown root:root "$tls_dir/$pem" && chmod 0644 "$tls_dir/$pem"; fi
  done
  if [ -f "$tls_dir/key.pem" ]; then chown root:root "$tls_dir/key.pem" && chmod 0600 "$tls_dir/key.pem"; fi
fi

# --- Sendmail ----------------------------------------------------------------------------
# Debian's owners and modes (see check_dirs in /etc/init.d/sendmail); the queue may be an
# empty volume, and /run survives a restart with stale pid files.
install -d -o smmta -g smmsp -m 2750 /var/spool/mqueue
install -d -o smmsp -g smmsp -m 2770 /var/spool/mqueue-client
chown smmta:smmsp /var/spool/mqueue && chmod 2750 /var/spool/mqueue
install -d -o root -g smmta -m 2755 /run/sendmail
install -d -o smmta -g smmsp -m 2755 /run/sendmail/mta
install -d -o smmsp -g smmsp -m 2775 /run/sendmail/msp
install -d -o root -g smmsp -m 2775 /run/sendmail/stampdir
rm -f /run/sendmail/mta/sendmail.pid /run/dovecot/master.pid

# Sendmail distrusts group- or world-writable config files.
chmod go-w /etc/mail/sendmail.mc /etc/mail/local-host-names /etc/mail/access /etc/aliases 2>/dev/null || true

# Plain m4 rather than Debian's `make -C /etc/mail`, which also runs sendmailconfig's helpers.
# cf.m4 reports mistakes such as "FEATURE() should be before MAILER()" on stderr but exits 0.
if ! m4_err=$(m4 /etc/mail/sendmail.mc 2>&1 >/etc/mail/sendmail.cf.new) || [[ $m4_err == *ERROR* ]]; then
  rm -f /etc/mail/sendmail.cf.new
  fail "m4 /etc/mail/sendmail.mc failed:" "$m4_err"
fi
if [ -n "$m4_err" ]; then printf 'mail-host: m4 /etc/mail/sendmail.mc warns:\n%s\n' "$m4_err" >&2; fi
chmod 0644 /etc/mail/sendmail.cf.new
mv /etc/mail/sendmail.cf.new /etc/mail/sendmail.cf

# Sendmail reads the hashed maps only. access is required (Debian's mc uses access_db); the
# others are built when someone added them.
for map in access mailertable virtusertable genericstable domaintable authinfo; do
  text=/etc/mail/$map
  if [ "$map" != access ] && [ ! -f "$text" ]; then continue; fi
  [ -f "$text" ] || fail "$text is missing"
  # shellcheck disable=SC2094 # makemap reads the text and writes $text.db
  out=$(makemap hash "$text" <"$text" 2>&1) || fail "makemap hash $text failed:" "$out"
done

# Address test mode on empty input reads the whole .cf and exits 70 on any bad line.
if ! out=$(sendmail -bt </dev/null 2>&1); then
  fail "sendmail rejects /etc/mail/sendmail.cf (built from sendmail.mc):" \
    "$(grep -v -e '^ADDRESS TEST MODE' -e '^Enter <ruleset>' -e '^> *$' <<<"$out")"
fi

out=$(newaliases 2>&1) || fail "newaliases failed:" "$out"
printf 'mail-host: %s\n' "$out"

# --- SMTP AUTH ---------------------------------------------------------------------------
# Sendmail's Cyrus SASL reads /usr/lib/sasl2/Sendmail.conf (the image's, see the Dockerfile):
# passwords go to saslauthd, which checks them against /etc/shadow. The daemon's SMTP sessions
# run as root (Debian sets no RunAsUser), so they reach the socket in root:sasl 0710.
sasl_conf=/usr/lib/sasl2/Sendmail.conf
grep -qx 'pwcheck_method: saslauthd' "$sasl_conf" \
  || fail "$sasl_conf does not say \`pwcheck_method: saslauthd\`: SMTP AUTH could not check passwords"
install -d -o root -g sasl -m 0710 /run/saslauthd
rm -f /run/saslauthd/mux /run/saslauthd/saslauthd.pid /run/saslauthd/mux.accept

# --- Dovecot -----------------------------------------------------------------------------
out=$(doveconf -n 2>&1 >/dev/null) || fail "/etc/dovecot/dovecot.conf does not pass \`doveconf -n\`:" "$out"

# --- run ---------------------------------------------------------------------------------
declare -A names=()
stopping=0

stop_all() {
  local pid
  # saslauthd is not a child of this script (it detaches); stop it by its pid.
  if [ -n "${saslauthd_pid:-}" ]; then kill -TERM "$saslauthd_pid" 2>/dev/null || true; fi
  for pid in "${!names[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}

# Stops Sendmail without cutting a delivery short. When this script ends, tini ends and the kernel
# kills whatever is left in the container: a procmail killed while it appends to /var/mail/<user>
# leaves half a message there with no newline, and the next message's "From " line runs into it, so
# a mail reader sees one message where there were two (procmail truncates only after a failed
# write, not when it is killed or sent SIGTERM). Sendmail's daemon, on SIGTERM, stops listening
# and exits, and leaves its children (SMTP sessions, queue runners, deliveries) running. So:
# stop the daemon, then send SIGTERM only to Sendmail processes that have no child and deliver
# nothing at that moment (an SMTP session, a queue runner between two jobs): each gives up its job, which stays queued
# and is tried again after the start. A process waiting for a delivery (procmail) is left to see
# it finish. Nothing sends a signal to procmail. Bounded: STOP_DRAIN_SECONDS (20) and 5 s more,
# less than the mail host's stop timeout of 30 s (components/MailHost.ts), after which Docker kills
# it all.
stop_mail() {
  local pid title deadline=$((SECONDS + ${STOP_DRAIN_SECONDS:-20}))
  local senders='sendmail|sendmail-mta' deliveries='sensible-mda|procmail|mail.local'
  if [ -n "${sendmail_pid:-}" ]; then
    kill -TERM "$sendmail_pid" 2>/dev/null || true
    wait "$sendmail_pid" 2>/dev/null || true
  fi
  while ((SECONDS < deadline)); do
    pgrep -x "$senders|$deliveries" >/dev/null || return 0
    while read -r pid title; do
      # Sendmail's process title shows a delivery under way ("<qid> mail.naver.com.: client DATA
      # status", "<qid> ...: user open"): a SIGTERM there, after the other side has taken the
      # message but before the queue file is gone, sends it again after the start (a duplicate).
      case $title in *": client "* | *": user open"*) continue ;; esac
      pgrep -P "$pid" >/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done < <(pgrep -a -x "$senders")
    sleep 0.1
  done
  # Still busy (a queue runner with a long queue): stop every Sendmail process now and give the
  # deliveries they started a few seconds to finish their message.
  printf 'mail-host: still delivering after %ss, stopping Sendmail: %s\n' "${STOP_DRAIN_SECONDS:-20}" \
    "$(pgrep -a -x "$senders|$deliveries" | tr '\n' ';')" >&2
  pkill -TERM -x "$senders" 2>/dev/null || true
  for _ in $(seq 50); do
    pgrep -x "$deliveries" >/dev/null || return 0
    sleep 0.1
  done
}

on_signal() {
  stopping=1
  echo "mail-host: stopping" >&2
  stop_mail
  stop_all
  exit 0
}
trap on_signal TERM INT

# Sendmail logs only to syslog; busybox syslogd -O - writes every message to stdout.
rm -f /dev/log
busybox syslogd -n -O - &
names[$!]=syslogd
for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
[ -S /dev/log ] || fail "syslogd did not create /dev/log"

# saslauthd -a shadow checks passwords against /etc/shadow. It has no foreground mode except -d,
# which also logs at debug level, and that includes the stored hash and the crypt of a wrong
# password ("auth_shadow: pw mismatch"): so it detaches as Debian runs it, logging to syslog (one
# line per failed AUTH: user and reason, never the password), and `tail --pid` stands in for it in
# the set of daemons, ending when saslauthd does.
out=$(saslauthd -a shadow -m /run/saslauthd 2>&1) || fail "saslauthd did not start:" "$out"
# Its parent may return before the detached daemon has written its pid file and socket (CI saw
# "did not create /run/saslauthd/mux" with the socket listening a moment later): wait up to 5 s.
for _ in $(seq 50); do
  [ -s /run/saslauthd/saslauthd.pid ] && [ -S /run/saslauthd/mux ] && break
  sleep 0.1
done
saslauthd_pid=$(cat /run/saslauthd/saslauthd.pid 2>/dev/null) || fail "saslauthd wrote no pid file"
[ -S /run/saslauthd/mux ] || fail "saslauthd did not create /run/saslauthd/mux"
tail --pid="$saslauthd_pid" -f /dev/null &
names[$!]=saslauthd

# Full path: Sendmail re-executes itself from argv[0] on SIGHUP.
/usr/sbin/sendmail -bD -q"$queue_interval" &
sendmail_pid=$!
names[$sendmail_pid]=sendmail
dovecot -F &
names[$!]=dovecot

set +e
wait -n
status=$?
if [ "$stopping" = 0 ]; then
  for pid in "${!names[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then dead=${names[$pid]}; fi
  done
  echo "mail-host: ${dead:-a daemon} exited (status $status); stopping the others" >&2
  stop_mail
  stop_all
  exit 1
fi
