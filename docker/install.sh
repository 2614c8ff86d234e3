#!/usr/bin/env bash
# docker/install.sh: the zvt image's install steps (docker/Dockerfile runs
# them; test/integration/docker_scripts.sh runs them on the host).
#
#   install.sh deps      install the build packages that are missing (none
#                        missing: apt-get is not run at all)
#   install.sh build     build zvt and the simulator, install them under
#                        $DESTDIR with the entrypoint and the image's
#                        settings, and list the packages they need at run
#                        time in $DESTDIR/usr/local/share/zvt/runtime-packages
#   install.sh [all]     deps, then build
#   install.sh runtime [LIST]
#                        install PostgreSQL 15 (without Debian's "main"
#                        cluster) and the packages in LIST (default the
#                        list `build` wrote under /)
#
# Environment:
#   PG_CONFIG     the PostgreSQL 15 to build against (default Debian's)
#   DESTDIR       stage directory to install into (default: the system)
#   ZVT_SRC       the source tree (default: this script's parent)
#   ZVT_DRY_RUN=1 print the apt-get and createcluster.conf steps instead
#                 of running them
# Runs as root for the package steps; `build` into a DESTDIR needs no root.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
ZVT_SRC=${ZVT_SRC:-$(dirname "$here")}
DESTDIR=${DESTDIR:-}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export PG_CONFIG DESTDIR

# what building zvt and zvt-exsim needs (dpkg-dev, in build-essential,
# brings dpkg-shlibdeps)
BUILD_PACKAGES="build-essential pkg-config postgresql-server-dev-15
  libwebsockets-dev libcurl4-openssl-dev libssl-dev libjansson-dev
  libhiredis-dev libjwt-dev zlib1g-dev"
# at run time, besides the shared libraries `build` finds
RUNTIME_PACKAGES="postgresql-15 ca-certificates"

say() { printf 'install.sh: %s\n' "$*"; }

# run CMD...: run it, or print it under ZVT_DRY_RUN=1
run() {
	if [ "${ZVT_DRY_RUN:-0}" = 1 ]; then say "would run: $*"; else "$@"; fi
}

# missing PACKAGES...: the ones dpkg does not have installed
missing() {
	local p out=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || out="$out $p"
	done
	echo "$out"
}

# apt_install PACKAGES...: apt-get update and install, only if any is missing
apt_install() {
	local need
	need=$(missing "$@")
	if [ -z "$need" ]; then
		say "packages present: $*"
		return 0
	fi
	say "installing:$need"
	run env DEBIAN_FRONTEND=noninteractive apt-get update -q
	# shellcheck disable=SC2086 # one word per package
	run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need
}

do_deps() {
	# shellcheck disable=SC2086
	apt_install $BUILD_PACKAGES
}

do_build() {
	local share=$DESTDIR/usr/local/share/zvt bin=$DESTDIR/usr/local/bin
	say "building zvt in $ZVT_SRC against $("$PG_CONFIG" --version)"
	make -s -C "$ZVT_SRC" -j"${ZVT_JOBS:-$(nproc)}" >/dev/null
	make -s -C "$ZVT_SRC" install >/dev/null
	install -d "$share" "$bin"
	install -m 755 "$ZVT_SRC/zvt-exsim" "$ZVT_SRC/zvt-exsim-client" "$bin/"
	install -m 755 "$here/entrypoint.sh" "$bin/zvt-entrypoint"
	install -m 755 "$here/healthcheck.sh" "$bin/zvt-healthcheck"
	install -m 644 "$here/zvt.conf" "$share/zvt.conf"
	runtime_list "$ZVT_SRC/zvt.so" "$ZVT_SRC/zvt-exsim" >"$share/runtime-packages"
	say "installed under ${DESTDIR:-/}; run-time packages: $(tr '\n' ' ' <"$share/runtime-packages")"
}

# runtime_list BINARIES...: the packages of the shared libraries they link,
# one a line, from dpkg-shlibdeps (which wants a debian/control to exist)
runtime_list() {
	local tmp deps
	tmp=$(mktemp -d)
	mkdir "$tmp/debian"
	: >"$tmp/debian/control"
	deps=$(cd "$tmp" && dpkg-shlibdeps -O "$@" 2>/dev/null) || { rm -rf "$tmp"; return 1; }
	rm -rf "$tmp"
	# shlibs:Depends=libc6 (>= 2.34), libcurl4 (>= 7.63.0) | libcurl4-gnutls, ...
	echo "${deps#shlibs:Depends=}" | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/ //g' | grep -v '^$' | sort -u
}

do_runtime() {
	local list=${1:-/usr/local/share/zvt/runtime-packages} pkgs
	[ -f "$list" ] || { say "no package list at $list (run install.sh build first)"; exit 1; }
	pkgs="$RUNTIME_PACKAGES $(tr '\n' ' ' <"$list")"
	# Debian's postgresql-common makes a "main" cluster when a server
	# package is installed; the image keeps its cluster in $PGDATA instead
	# (only done where the server is not installed yet: never on a host)
	# shellcheck disable=SC2086
	if [ -n "$(missing postgresql-15)" ]; then
		apt_install postgresql-common
		run sed -ri 's/^#?\s*create_main_cluster\s*=.*/create_main_cluster = false/' \
			/etc/postgresql-common/createcluster.conf
	fi
	# shellcheck disable=SC2086
	apt_install $pkgs
}

case "${1:-all}" in
	deps) do_deps ;;
	build) do_build ;;
	all) do_deps; do_build ;;
	runtime) do_runtime "${2:-}" ;;
	*) echo "usage: install.sh [deps|build|all|runtime [LIST]]" >&2; exit 2 ;;
esac
