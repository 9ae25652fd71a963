#!/bin/sh
# Start-up steps shared by every mail-lab image; each entry point runs this first.
# Paths are the contract in render/files.ts (PATHS.resolvConf, PATHS.caTrust).
set -eu

marker=/run/mail-lab/init-done
# A restarted container keeps its /run: forget the previous start's success first.
rm -f "$marker"

# Docker bind-mounts /etc/resolv.conf, so it cannot be replaced (mv) — only overwritten in place.
if [ -f /etc/mail-lab/resolv.conf ]; then
  cat /etc/mail-lab/resolv.conf > /etc/resolv.conf
fi

# Trust the lab CA so that curl, swaks, openssl and the MTAs verify the lab's certificates.
# update-ca-certificates skips a file that is not one PEM certificate with only a warning and
# exit 0, so check the file first: a lab CA that silently is not trusted fails much later.
ca=/usr/local/share/ca-certificates/mail-lab-ca.crt
if [ -f "$ca" ]; then
  if ! out=$(openssl x509 -in "$ca" -noout 2>&1); then
    printf 'lab-init: %s is not a PEM certificate (openssl x509):\n%s\n' "$ca" "$out" >&2
    exit 1
  fi
  if ! out=$(update-ca-certificates 2>&1); then
    printf 'lab-init: update-ca-certificates failed:\n%s\n' "$out" >&2
    exit 1
  fi
fi

mkdir -p /run/mail-lab
: > "$marker"
