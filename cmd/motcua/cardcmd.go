package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
)

// cardLine is one line of `motcua card parse`'s output for a bad payload.
type cardLine struct {
	Line    int    `json:"line"`
	Error   string `json:"error"`
	ErrorVI string `json:"error_vi,omitempty"`
}

// cmdCard parses ID card QR payloads from standard input, one per line, and
// prints one JSON object per line: the card, or the problem.
func cmdCard(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("card", "parse < payloads.txt", slog.LevelWarn)
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	if len(pos) != 1 || pos[0] != "parse" {
		fmt.Fprintln(e.stderr, "motcua card: usage: motcua card parse < payloads.txt")
		return exitUsage
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	sc := bufio.NewScanner(untilDone(ctx, e.stdin))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	bad, n := 0, 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if strings.TrimSpace(string(line)) == "" {
			continue
		}
		c, err := identity.ParseCard(line)
		if err != nil {
			bad++
			out := cardLine{Line: n, Error: err.Error()}
			var ie *i18n.Error
			if errors.As(err, &ie) {
				out.ErrorVI = ie.Msg.VI
			}
			enc.Encode(out)
			continue
		}
		enc.Encode(c)
	}
	if err := sc.Err(); errors.Is(err, errInterrupted) {
		return e.fail("card parse %v after %d line(s)", err, n)
	} else if err != nil {
		return e.fail("read payloads: %v", err)
	}
	if bad > 0 {
		fmt.Fprintf(e.stderr, "motcua card parse: %d of %d payload(s) were bad\n", bad, n)
		return exitFail
	}
	return exitOK
}
