#!/bin/sh
# mail-lab client: the common init (resolver, lab CA), then nothing but waiting for a student to
# `docker exec -it <client> bash`. tini (PID 1) reaps whatever the student leaves behind.
set -eu

/usr/local/lib/mail-lab/lab-init.sh

exec sleep infinity
