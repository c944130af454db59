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
# and its ffprobe checks it in tests. Test: xvfb and xdotool click mpv's
# window on a virtual screen. The kiosk window is added here as its issue
# lands.
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
	xvfb
	xdotool
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

missing=()
for p in "${packages[@]}"; do
	if has_command "$p"; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "missing system packages: ${missing[*]}" >&2
	exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "install-deps: need root to install: ${missing[*]}" >&2
		exit 1
	fi
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; refresh them once if the install fails.
if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}"; then
	$sudo apt-get update
	$sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
