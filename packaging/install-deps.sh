#!/usr/bin/env bash
# install-deps.sh installs the system packages motcua needs to build, test and
# run on Debian 12. It is idempotent: packages already present are skipped, and
# apt-get runs only when something is missing. Run it as root (or with sudo).
#
#   packaging/install-deps.sh          # build + test + run dependencies
#   packaging/install-deps.sh --check  # exit 1 listing what is missing
set -euo pipefail

# Build: gcc for cgo (mattn/go-sqlite3, Fyne), the GL and X11 headers Fyne's
# driver compiles against. Test: sqlite3 CLI for inspection; tesseract with
# its Vietnamese data and Noto Serif to measure that compressed scans stay
# legible; poppler-utils to check the PDFs the scanner writes. Run: DejaVu
# Sans, the receipt font (it has every Vietnamese letter); sane-utils
# (scanimage, and SANE's test backend, the simulated scanner). Test: nodejs
# and npm run tus-js-client (pinned in sync/portal/testdata/tusjs) against
# the reference portal; zbar-tools reads back the receipts' QR codes. Voice:
# espeak-ng (with espeak-ng-data, its three Vietnamese voices) renders the
# spoken prompts, alsa-utils' aplay plays them where there is no PulseAudio
# or PipeWire (pw-play, paplay). Video: mpv plays the instructional videos
# fullscreen; ffmpeg makes the sample video (from espeak-ng's voice-over)
# and its ffprobe checks it in tests. The kiosk window: locales generates
# en_US.UTF-8 and vi_VN.UTF-8 (Fyne needs a real UTF-8 locale, not C.UTF-8,
# to take Vietnamese from the keyboard); xvfb, x11-apps (xwd), imagemagick
# (convert) and xdotool run, drive and photograph the window without a
# screen (packaging/screenshots.sh, the window benchmark, mpv's window test).
# The portal's PostgreSQL back end: postgresql-15's initdb and postgres
# (in /usr/lib/postgresql/15/bin) run a throwaway server for its tests
# (internal/pgtest), as the user motcua-test made below, since PostgreSQL
# refuses to run as root. To keep the install from also starting a server
# of its own, no main cluster is made when this script installs it.
packages=(
	gcc
	libc6-dev
	pkg-config
	make
	git
	ca-certificates
	sqlite3
	libgl1-mesa-dev
	xorg-dev
	fonts-dejavu-core
	sane-utils
	libsane1
	tesseract-ocr
	tesseract-ocr-vie
	fonts-noto-core
	poppler-utils
	zbar-tools
	espeak-ng
	alsa-utils
	nodejs
	npm
	mpv
	ffmpeg
	locales
	xvfb
	x11-apps
	imagemagick
	xdotool
	postgresql-15
)

# has_command reports whether package p's program is already installed from
# elsewhere: NodeSource's nodejs ships npm, and Debian's npm would conflict
# with it.
has_command() {
	case "$1" in
	nodejs) command -v node >/dev/null 2>&1 ;;
	npm) command -v npm >/dev/null 2>&1 ;;
	*) return 1 ;;
	esac
}

# The UTF-8 locales the kiosk window runs in (see ui_locale in
# cmd/motcua): generated once, when locale -a does not list them.
locales_wanted=(en_US.UTF-8 vi_VN.UTF-8)

# generate_locales generates each wanted locale locale -a lacks; it needs
# the locales package and root.
generate_locales() {
	local l todo=()
	for l in "${locales_wanted[@]}"; do
		# locale -a spells them en_US.utf8.
		if ! locale -a 2>/dev/null | grep -qix "${l%%.*}.utf-\?8"; then
			todo+=("$l")
		fi
	done
	if [ "${#todo[@]}" -eq 0 ]; then
		return 0
	fi
	if [ "${1:-}" = "--check" ]; then
		echo "missing locales: ${todo[*]}" >&2
		return 1
	fi
	echo "install-deps: generating locales ${todo[*]}" >&2
	for l in "${todo[@]}"; do
		if ! grep -qx "$l UTF-8" /etc/locale.gen 2>/dev/null; then
			echo "$l UTF-8" | $sudo tee -a /etc/locale.gen >/dev/null
		fi
	done
	$sudo locale-gen
}

# test_user is the unprivileged user internal/pgtest runs PostgreSQL as
# when the tests run as root.
test_user=motcua-test

# make_test_user creates test_user if it does not exist and this script
# can (root, or sudo); without it, tests run as root use nobody.
make_test_user() {
	if id "$test_user" >/dev/null 2>&1; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ]; then
		return 0
	fi
	echo "install-deps: creating the user $test_user (runs PostgreSQL in tests)" >&2
	$sudo useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$test_user"
}

# no_main_cluster tells postgresql-common, before it is installed, not to
# make and start a cluster of its own.
no_main_cluster() {
	if dpkg-query -W -f='${Status}' postgresql-common 2>/dev/null | grep -q 'install ok installed'; then
		return 0
	fi
	$sudo mkdir -p /etc/postgresql-common/createcluster.d
	echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/motcua.conf >/dev/null
}

missing=()
for p in "${packages[@]}"; do
	if has_command "$p"; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${1:-}" = "--check" ]; then
	rc=0
	if [ "${#missing[@]}" -ne 0 ]; then
		echo "missing system packages: ${missing[*]}" >&2
		rc=1
	fi
	if command -v locale >/dev/null 2>&1; then
		generate_locales --check || rc=1
	fi
	exit "$rc"
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	elif [ "${#missing[@]}" -ne 0 ]; then
		echo "install-deps: need root to install: ${missing[*]}" >&2
		exit 1
	fi
fi

make_test_user

if [ "${#missing[@]}" -eq 0 ]; then
	generate_locales || {
		echo "install-deps: could not generate the locales ${locales_wanted[*]}" >&2
		exit 1
	}
	exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
no_main_cluster
# A fresh machine has no package lists; refresh them once if the install fails.
if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}"; then
	$sudo apt-get update
	$sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
generate_locales
