#!/bin/bash
# Healthy when Sendmail greets on 127.0.0.1:25 and :587 (220), and Dovecot on 143 (* OK) and
# 110 (+OK).
# Each probe says goodbye properly; Sendmail still logs "did not issue MAIL/EXPN/VRFY/ETRN".
set -u

if [ "${MAIL_LAB_EXERCISE:-0}" = 1 ]; then
  # An exercise host is ready once it has booted; its daemons are the student's to configure.
  [ -e /run/mail-lab/booted ] && exit 0
  echo "exercise host still booting"
  exit 1
fi

probe() {
  local port=$1 expect=$2 bye=$3 greeting
  # greet_pause may hold the banner back for a few seconds when 127.0.0.1 is not exempt.
  if ! exec 3<>"/dev/tcp/127.0.0.1/$port"; then
    echo "nothing listens on 127.0.0.1:$port"
    return 1
  fi
  if ! IFS= read -r -t 8 greeting <&3; then
    exec 3<&-
    echo "no greeting on 127.0.0.1:$port"
    return 1
  fi
  printf '%s\r\n' "$bye" >&3
  exec 3<&-
  case $greeting in
    "$expect"*) return 0 ;;
  esac
  echo "unexpected greeting on 127.0.0.1:$port: $greeting"
  return 1
}

probe 25 220 QUIT && probe 587 220 QUIT && probe 143 '* OK' 'a LOGOUT' && probe 110 '+OK' QUIT
