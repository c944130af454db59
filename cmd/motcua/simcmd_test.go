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

// `motcua sim` prints a device path; a real card reader opening that path
// receives the cards from the file, one per interval.
func TestSimFeedsACardReader(t *testing.T) {
	cards := writeFile(t, t.TempDir(), "cards.txt",
		"079304000123||Trần Thị Bình|02112004|Nữ|123 Lê Lợi, Quận 1|10072022\n")
	cmd := exec.Command(motcua, "sim", "--cards", cards, "--interval", "200ms", "--dir", t.TempDir())
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	var port string
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "card reader: "); ok {
			port = p
			break
		}
	}
	if port == "" {
		t.Fatal("sim printed no card reader path")
	}
	go func() {
		for sc.Scan() {
		}
	}()
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
