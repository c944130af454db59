package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/motcua/motcua/agent/application"
)

// crashChildEnv, when set to a database path, turns the test binary into the
// child of TestSIGKILLDuringWrites: it stores applications in a loop and
// prints "ack KEY" after each Create returns, until it is killed.
const crashChildEnv = "MOTCUA_STORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

func crashChild(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	page := make([]byte, 40<<10)
	for i := 0; ; i++ {
		key := fmt.Sprintf("%d-%d", os.Getpid(), i)
		for j := range page {
			page[j] = byte(i + j)
		}
		n := newApp(key,
			NewAttachment{EvidenceKey: "a", Name: "p1.pdf", MediaType: "application/pdf", Content: page},
			NewAttachment{EvidenceKey: "b", Name: "p2.pdf", MediaType: "application/pdf", Content: page[:20<<10]})
		if _, err := s.Create(ctx, n, application.Queued); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// Unbuffered: the parent sees the ack as soon as Create returned.
		fmt.Fprintf(os.Stdout, "ack %s\n", key)
	}
}

// TestSIGKILLDuringWrites kills a process that is storing applications, at a
// random moment, several times over the same database file. After each kill
// every acknowledged application is there with its attachments, the audit
// chain and integrity_check hold, and no application is half-written.
func TestSIGKILLDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), FileName)
	acked := map[string]bool{}
	rounds := 6
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 5 + rand.IntN(60)
		sc := bufio.NewScanner(stdout)
		n := 0
		for sc.Scan() {
			key, ok := strings.CutPrefix(sc.Text(), "ack ")
			if !ok {
				t.Fatalf("child said %q", sc.Text())
			}
			acked[key] = true
			if n++; n == killAfter {
				// Kill while the child is most likely inside its next Create.
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child was not killed: %v\n%s", round, err, stderr.String())
		}
		checkAfterCrash(t, path, acked)
	}
	t.Logf("%d applications acknowledged over %d kills", len(acked), rounds)
}

func checkAfterCrash(t *testing.T, path string, acked map[string]bool) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, a := range list {
		stored[a.IdempotencyKey] = true
		// All or nothing: a stored application is queued, with both
		// attachments, its three audit events and its two outbox rows.
		if a.State != application.Queued || a.AttachmentCount != 2 || a.PayloadBytes != 60<<10 {
			t.Fatalf("half-written application: %+v", a)
		}
		evs, err := s.Events(ctx, a.ID)
		if err != nil || len(evs) != 3 {
			t.Fatalf("application %d has %d audit events (%v)", a.ID, len(evs), err)
		}
		var outbox int
		s.db.QueryRow(`SELECT count(*) FROM outbox WHERE application_id = ?`, a.ID).Scan(&outbox)
		if outbox != 2 {
			t.Fatalf("application %d has %d outbox rows", a.ID, outbox)
		}
	}
	for k := range acked {
		if !stored[k] {
			t.Fatalf("acknowledged application %s was lost", k)
		}
	}
}
