#!/usr/bin/env bash
# screenshots.sh photographs the kiosk window: it starts `motcua run` under
# Xvfb on a fresh data directory (every device simulated, a local reference
# portal), drives the citizen screens and the counter's with the keyboard
# only (xdotool), and saves each screen as docs/screenshots/NAME.png
# (xwd, then ImageMagick's convert). Not part of `make test`: it takes about
# a minute and its pictures are for people to look at.
#
#   packaging/screenshots.sh [OUTDIR]     # default docs/screenshots
#
# Needs what packaging/install-deps.sh installs: xvfb, x11-apps (xwd),
# imagemagick, xdotool, and the en_US.UTF-8 locale.
set -euo pipefail

cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
mkdir -p "$out"
for cmd in Xvfb xwd xdotool; do
	command -v "$cmd" >/dev/null || { echo "screenshots: $cmd is missing: run packaging/install-deps.sh" >&2; exit 1; }
done
dpkg -s imagemagick >/dev/null 2>&1 || { echo "screenshots: imagemagick is missing: run packaging/install-deps.sh" >&2; exit 1; }

export PATH=/usr/local/go/bin:$PATH CGO_ENABLED=1
bin=$(mktemp -d)/motcua
go build -o "$bin" ./cmd/motcua

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work" "$(dirname "$bin")"
}
trap cleanup EXIT

# A display of its own: Xvfb picks a free number and writes it on fd 3.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -n1 "$work/display")"
echo "screenshots: Xvfb on $DISPLAY" >&2

# start MODE [ARGS...] runs motcua on a fresh data directory and waits for
# its window.
start() {
	local mode=$1
	shift
	local data="$work/data-$mode"
	LANG=C.UTF-8 LC_ALL=C.UTF-8 "$bin" run --data-dir "$data" --local-portal 127.0.0.1:0 --mode "$mode" "$@" \
		>"$work/$mode.out" 2>"$work/$mode.log" &
	agent=$!
	pids+=("$agent")
	for _ in $(seq 300); do
		grep -q 'msg="window shown"' "$work/$mode.log" && break
		kill -0 "$agent" 2>/dev/null || { cat "$work/$mode.log" >&2; exit 1; }
		sleep 0.1
	done
	sleep 1 # the devices' first state reaches the screen
}

stop() {
	kill "$agent"
	wait "$agent" || true
}

shot() {
	sleep "${2:-0.6}"
	xwd -root -silent | convert xwd:- png:"$out/$1.png"
	echo "screenshots: $out/$1.png" >&2
}

key() { xdotool key --delay 80 "$@"; }
# One xdotool call per text, slowly: xdotool types a letter missing from the
# keymap (ễ, ô) by remapping a spare key, and a client that reads the key
# before the new map drops it. Capital accented vowels (Á) may come out
# small, so the texts avoid them.
typ() { xdotool type --delay 150 "$1"; }

# The citizen's kiosk, fullscreen.
start kiosk --kiosk
shot kiosk-1-attract
key ctrl+d # the simulated reader reads a sample card
shot kiosk-2-language 1.2
key 1
shot kiosk-3-card
key Return
shot kiosk-4-procedures
key 1
shot kiosk-5-form-requester
key Escape Escape Escape Escape
sleep 0.5
key 2 # Track my file
shot kiosk-6-track
stop

# The staff's counter: on a fresh machine it explains how to add the first
# admin; once added on the machine itself, staff log in with their PIN.
start counter
shot counter-0-first-run
echo 482913 | LANG=C.UTF-8 "$bin" staff add --data-dir "$work/data-counter" --role admin --login lan \
	--name "Nguyen Thi Lan" >/dev/null 2>&1
key Return # Check again
shot counter-0-login
typ "482913"
key Return
sleep 1 # the PIN's hash
key ctrl+d
typ "khai sinh"
shot counter-1-procedures
key Return
shot counter-2-form-requester
key 1
typ "0912345678"
key Return
typ "Nguyễn Minh Khôi"
key Return
typ "20/11/2026"
key Return 1
shot counter-3-form-child
key Return Return
typ "Bệnh viện Đa khoa Hà Nội"
key Return
typ "Hà Nội"
key Return
typ "GCS-2026-0457"
key Return
typ "Trần Thị Mai"
key Return
typ "1996"
key Return Return Return Return
typ "Số 12 ngõ 34 Láng Hạ, Phường Thành Công, Quận Ba Đình, Hà Nội"
shot counter-4-form-mother
key Return
sleep 0.4
key ctrl+d # the father's card, read on his section
shot counter-5-form-father 1.2
key Return Return Return # through his last fields, on
shot counter-6-evidence
key Return
shot counter-7-review
key Return
shot counter-8-done 1.5
key ctrl+l
shot counter-9-queue
stop

# What was typed in the window is what was stored, Vietnamese letters
# included: the window takes them from the keyboard in the C.UTF-8
# locale the agent was started in.
stored=$(LANG=C.UTF-8 "$bin" show 1 --data-dir "$work/data-counter")
for want in "Nguyễn Minh Khôi" "Bệnh viện Đa khoa Hà Nội" "Trần Thị Mai" "Láng Hạ"; do
	grep -qF "$want" <<<"$stored" || { echo "screenshots: application 1 does not hold \"$want\" as typed:" >&2; echo "$stored" >&2; exit 1; }
done
echo "screenshots: application 1 holds what was typed" >&2
echo "screenshots: done; look at each one" >&2
