#!/usr/bin/env bash
# docker/healthcheck.sh: the zvt image's health check (installed as
# zvt-healthcheck; docker-compose.yml runs it).
#
# Healthy when the HTTP front's admin server answers GET /ready with 200
# (an HTTP worker is up, connected and sees the zvt_api schema: docs/http.md),
# on 127.0.0.1:$ZVT_HTTP_ADMIN_PORT.  Without an admin port it falls back
# to pg_isready on the socket.  Bash's /dev/tcp only: the image has no
# curl.  Exit 0 healthy, 1 not.
set -u

port=${ZVT_HTTP_ADMIN_PORT:-}
if [ -z "$port" ] || [ "$port" = 0 ]; then
	exec "${PGBIN:-/usr/lib/postgresql/15/bin}/pg_isready" -q -h "${ZVT_SOCKET_DIR:-/var/run/postgresql}" \
		-p "${PGPORT:-5432}" -d "${ZVT_DATABASE:-zvt}"
fi
{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || exit 1
printf 'GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
# the status line within 5 s
read -r -t 5 _ status _ <&3 || exit 1
exec 3<&-
[ "$status" = 200 ]
