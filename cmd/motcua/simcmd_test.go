package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/devices/cardreader"
)

// startSim starts `motcua sim` with args, stopped when the test ends, and
// returns what it printed up to the first line stop accepts.
func startSim(t *testing.T, stop func(line string) bool, args ...string) []string {
	t.Helper()
	cmd := exec.Command(motcua, append([]string{"sim"}, args...)...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if stop(sc.Text()) {
			go func() { // keep reading, so sim never blocks on its output
				for sc.Scan() {
				}
			}()
			return lines
		}
	}
	t.Fatalf("motcua sim %v stopped after printing:\n%s", args, strings.Join(lines, "\n"))
	return nil
}

// `motcua sim` prints a device path; a real card reader opening that path
// receives the cards from the file, one per interval.
func TestSimFeedsACardReader(t *testing.T) {
	cards := writeFile(t, t.TempDir(), "cards.txt",
		"079304000123||Trần Thị Bình|02112004|Nữ|123 Lê Lợi, Quận 1|10072022\n")
	said := startSim(t, func(line string) bool { return strings.HasPrefix(line, "card reader: ") },
		"--cards", cards, "--interval", "200ms", "--dir", t.TempDir())
	port := strings.TrimPrefix(said[len(said)-1], "card reader: ")
	r := cardreader.New(cardreader.Config{Port: port})
	events := make(chan cardreader.Event, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx, events)
	select {
	case ev := <-events:
		if ev.Err != nil || ev.Card.Name != "Trần Thị Bình" {
			t.Fatalf("card from the simulator: %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no card from the simulator")
	}
	if r := cli(t, t.TempDir(), "", "sim", "--cards", "/nonexistent"); r.code != exitFail || !strings.Contains(r.stderr, "--cards") {
		t.Errorf("missing cards file: %+v", r)
	}
}
