package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/internal/pgtest"
	"github.com/motcua/motcua/internal/s3test"
)

// motcua is the path of the binary built for these tests: the CLI is tested
// as a user runs it.
var motcua string

func TestMain(m *testing.M) {
	// `motcua run` opens its window only in the tests that start a
	// display for it (window_test.go).
	os.Unsetenv("DISPLAY")
	os.Unsetenv("WAYLAND_DISPLAY")
	dir, err := os.MkdirTemp("", "motcua-cli")
	if err != nil {
		panic(err)
	}
	motcua = filepath.Join(dir, "motcua")
	build := exec.Command("go", "build", "-o", motcua, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build motcua:", err)
		os.Exit(1)
	}
	code := m.Run()
	pgtest.StopShared()
	s3test.StopShared()
	os.RemoveAll(dir)
	if queueDataDir != "" {
		os.RemoveAll(queueDataDir)
	}
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// cli runs the motcua binary with args and the given data directory.
func cli(t *testing.T, dataDir string, stdin string, args ...string) result {
	t.Helper()
	return runCLI(t, dataDir, stdin, nil, args...)
}

// cliEnv is cli with extra environment variables.
func cliEnv(t *testing.T, dataDir string, env []string, args ...string) result {
	t.Helper()
	return runCLI(t, dataDir, "", env, args...)
}

// runCLI runs the motcua binary as a user would, with none of the
// environment that would point it at another configuration or portal.
func runCLI(t *testing.T, dataDir, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(motcua, args...)
	cmd.Env = append(append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+dataDir, "MOTCUA_CONFIG=", "MOTCUA_PORTAL="), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHelpListsEveryCommand(t *testing.T) {
	r := cli(t, t.TempDir(), "", "--help")
	if r.code != 0 {
		t.Fatalf("--help exited %d", r.code)
	}
	for _, c := range []string{"run", "submit", "queue", "show", "procedures", "example", "audit", "verify", "--data-dir"} {
		if !strings.Contains(r.stdout, c) {
			t.Errorf("--help does not mention %q:\n%s", c, r.stdout)
		}
	}
	if r := cli(t, t.TempDir(), "", "frobnicate"); r.code != exitUsage || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %+v", r)
	}
	if r := cli(t, t.TempDir(), ""); r.code != exitUsage {
		t.Errorf("no command exited %d", r.code)
	}
}

type catalogJSON struct {
	Version    string `json:"version"`
	Procedures []struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	} `json:"procedures"`
}

// Every procedure's example form is accepted, stored, queued, listed and
// shown: the path a newcomer follows in the README.
func TestExampleSubmitQueueShowForEveryProcedure(t *testing.T) {
	data := t.TempDir()
	r := cli(t, data, "", "procedures", "--json")
	if r.code != 0 {
		t.Fatalf("procedures --json: %+v", r)
	}
	var cat catalogJSON
	mustJSON(t, r.stdout, &cat)
	if len(cat.Procedures) < 10 {
		t.Fatalf("catalog has %d procedures, want at least 10", len(cat.Procedures))
	}
	ids := map[int64]string{}
	for _, p := range cat.Procedures {
		ref := p.Code
		if ref == "" {
			ref = p.ID
		}
		ex := cli(t, data, "", "procedures", "example", ref)
		if ex.code != 0 {
			t.Fatalf("example %s: %+v", ref, ex)
		}
		form := writeFile(t, t.TempDir(), "f.json", ex.stdout)
		sub := cli(t, data, "", "submit", "--procedure", ref, "--form", form)
		if sub.code != 0 {
			t.Fatalf("submit %s example: exit %d\n%s", ref, sub.code, sub.stderr)
		}
		var got submitResult
		mustJSON(t, sub.stdout, &got)
		if got.State != "queued" || got.ID == 0 || len(got.IdempotencyKey) != 32 || got.Procedure != p.ID ||
			got.CatalogVersion != cat.Version {
			t.Fatalf("submit %s printed %+v", ref, got)
		}
		ids[got.ID] = p.ID
	}
	q := cli(t, data, "", "queue", "--json")
	var rows []queueRow
	mustJSON(t, q.stdout, &rows)
	if len(rows) != len(cat.Procedures) {
		t.Fatalf("queue lists %d applications, want %d", len(rows), len(cat.Procedures))
	}
	for _, row := range rows {
		if ids[row.ID] != row.Procedure || row.State != "queued" {
			t.Errorf("queue row %+v", row)
		}
	}
	table := cli(t, data, "", "queue")
	if !strings.Contains(table.stdout, "1.001193") || !strings.Contains(table.stdout, "queued") {
		t.Errorf("queue table:\n%s", table.stdout)
	}
	show := cli(t, data, "", "show", fmt.Sprint(rows[0].ID))
	var shown struct {
		ID      int64           `json:"id"`
		Form    json.RawMessage `json:"form"`
		History []historyEntry  `json:"history"`
	}
	mustJSON(t, show.stdout, &shown)
	if shown.ID != rows[0].ID || len(shown.Form) < 10 || len(shown.History) != 3 || shown.History[2].To != "queued" {
		t.Fatalf("show: %s", show.stdout)
	}
	if v := cli(t, data, "", "audit", "verify"); v.code != 0 || !strings.Contains(v.stdout, "intact") {
		t.Fatalf("audit verify: %+v", v)
	}
}

// birthExample returns the birth registration example as a map to mutate.
func birthExample(t *testing.T) map[string]any {
	t.Helper()
	r := cli(t, t.TempDir(), "", "procedures", "example", "1.001193")
	var m map[string]any
	mustJSON(t, r.stdout, &m)
	return m
}

// A bad form is refused field by field and nothing is stored.
func TestSubmitBadFormStoresNothing(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		fields []string // every field the error must name
	}{
		{"child's date of birth in the future", func(m map[string]any) { m["child_date_of_birth"] = "2999-01-01" }, []string{"child_date_of_birth"}},
		{"impossible date", func(m map[string]any) { m["child_date_of_birth"] = "2025-02-30" }, []string{"child_date_of_birth"}},
		{"required field missing", func(m map[string]any) { delete(m, "child_full_name") }, []string{"child_full_name"}},
		{"required field blank", func(m map[string]any) { m["child_full_name"] = "   " }, []string{"child_full_name"}},
		{"unknown field", func(m map[string]any) { m["favourite_colour"] = "đỏ" }, []string{"favourite_colour"}},
		{"wrong type", func(m map[string]any) { m["child_full_name"] = 42 }, []string{"child_full_name"}},
		{"requester ID of 11 digits", func(m map[string]any) {
			req := m["requester"].(map[string]any)
			req["citizen_id"] = "00109501234"
		}, []string{"requester.citizen_id"}},
		{"requester ID disagrees with date of birth", func(m map[string]any) {
			req := m["requester"].(map[string]any)
			req["date_of_birth"] = shiftYear(req["date_of_birth"].(string))
		}, []string{"requester.citizen_id"}},
		{"name with digits", func(m map[string]any) { m["child_full_name"] = "Nguyễn Văn 3" }, []string{"child_full_name"}},
		{"choice not in list", func(m map[string]any) { m["child_sex"] = "unknown" }, []string{"child_sex"}},
		{"three problems at once", func(m map[string]any) {
			m["child_date_of_birth"] = "2999-01-01"
			delete(m, "child_full_name")
			m["extra"] = "x"
		}, []string{"child_date_of_birth", "child_full_name", "extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := birthExample(t)
			tt.mutate(m)
			b, _ := json.Marshal(m)
			data := t.TempDir()
			form := writeFile(t, t.TempDir(), "bad.json", string(b))
			r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form)
			if r.code != exitFail {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			var out struct {
				Stored bool                     `json:"stored"`
				Errors []struct{ Field string } `json:"errors"`
			}
			mustJSON(t, r.stdout, &out)
			var got []string
			for _, e := range out.Errors {
				got = append(got, e.Field)
			}
			for _, f := range tt.fields {
				if !strings.Contains(r.stderr, f) || !contains(got, f) {
					t.Errorf("error does not name %s: fields %v\n%s", f, got, r.stderr)
				}
			}
			if len(got) != len(tt.fields) {
				t.Errorf("errors name %v, want exactly %v", got, tt.fields)
			}
			assertNothingStored(t, data)
		})
	}
}

func shiftYear(date string) string {
	var y, m, d int
	fmt.Sscanf(date, "%d-%d-%d", &y, &m, &d)
	return fmt.Sprintf("%04d-%02d-%02d", y-1, m, d)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// assertNothingStored checks that the data directory holds no application
// and no audit event.
func assertNothingStored(t *testing.T, data string) {
	t.Helper()
	path := filepath.Join(data, store.FileName)
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return // not even a database
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range []string{"applications", "personal_data", "attachments", "outbox", "audit_events"} {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows in %s after a refused submit", n, table)
		}
	}
}

func TestSubmitNotJSON(t *testing.T) {
	data := t.TempDir()
	for _, body := range []string{"", "not json", "[1,2]", `{"a":1} {"b":2}`, "null"} {
		form := writeFile(t, t.TempDir(), "f.json", body)
		r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form)
		if r.code != exitFail || !strings.Contains(r.stderr, "JSON") {
			t.Errorf("form %q: exit %d\n%s", body, r.code, r.stderr)
		}
	}
	assertNothingStored(t, data)
}

func TestSubmitUsageErrors(t *testing.T) {
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", "{}")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"submit", "--form", form}, exitUsage, "--procedure and --form are required"},
		{[]string{"submit", "--procedure", "9.999999", "--form", form}, exitFail, "unknown procedure"},
		{[]string{"submit", "--procedure", "1.001193", "--form", "/nonexistent/f.json"}, exitFail, "read form"},
		{[]string{"submit", "--procedure", "1.001193", "--form", form, "--bogus"}, exitUsage, "bogus"},
		{[]string{"show", "abc"}, exitUsage, "not an application id"},
		{[]string{"show", "12345"}, exitFail, "not found"},
		{[]string{"queue", "--state", "lost"}, exitUsage, "not a state"},
		{[]string{"procedures", "example", "9.999999"}, exitFail, "unknown procedure"},
		{[]string{"audit"}, exitUsage, "audit verify"},
		{[]string{"queue", "--log-level", "loud"}, exitUsage, "log-level"},
	}
	for _, tt := range tests {
		r := cli(t, data, "", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("motcua %v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, r.code, r.stderr, tt.code, tt.want)
		}
	}
}

func TestSubmitAttachments(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	pdf := writeFile(t, dir, "giay-chung-sinh.pdf", "%PDF-1.4\n"+strings.Repeat("x", 5000))
	png := writeFile(t, dir, "cccd.png", "\x89PNG\r\n\x1a\n"+strings.Repeat("y", 3000))
	empty := writeFile(t, dir, "empty.pdf", "")

	// Refused: a missing file, an empty one and an unknown evidence key, all
	// listed together.
	r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form,
		"--attach", filepath.Join(dir, "missing.pdf"), "--attach", empty, "--attach", "no_such_evidence="+pdf)
	if r.code != exitFail {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"missing.pdf", "empty.pdf", "no_such_evidence"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("refusal does not name %s:\n%s", want, r.stderr)
		}
	}
	assertNothingStored(t, data)

	r = cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form, "--attach", pdf, "--attach", png)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var got submitResult
	mustJSON(t, r.stdout, &got)
	if len(got.Attachments) != 2 {
		t.Fatalf("attachments %+v", got.Attachments)
	}
	for i, path := range []string{pdf, png} {
		b, _ := os.ReadFile(path)
		sum := sha256.Sum256(b)
		a := got.Attachments[i]
		if a.SHA256 != hex.EncodeToString(sum[:]) || a.Size != int64(len(b)) || a.Name != filepath.Base(path) || a.EvidenceKey == "" {
			t.Errorf("attachment %d = %+v", i, a)
		}
	}
	if got.Attachments[0].MediaType != "application/pdf" || got.Attachments[1].MediaType != "image/png" {
		t.Errorf("media types %s, %s", got.Attachments[0].MediaType, got.Attachments[1].MediaType)
	}
	if got.Attachments[0].EvidenceKey == got.Attachments[1].EvidenceKey {
		t.Errorf("both files assigned to evidence %s", got.Attachments[0].EvidenceKey)
	}
}

func TestSubmitIdempotencyKey(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	example := cli(t, data, "", "procedures", "example", "1.001193").stdout
	form := writeFile(t, dir, "f.json", example)
	key := "0123456789abcdef0123456789abcdef"
	first := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form, "--idempotency-key", key)
	again := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form, "--idempotency-key", key)
	if first.code != 0 || again.code != 0 {
		t.Fatalf("exits %d, %d\n%s%s", first.code, again.code, first.stderr, again.stderr)
	}
	var a, b submitResult
	mustJSON(t, first.stdout, &a)
	mustJSON(t, again.stdout, &b)
	if a.ID != b.ID || !b.Existing || a.Existing {
		t.Fatalf("retry stored anew: %+v then %+v", a, b)
	}
	var m map[string]any
	mustJSON(t, example, &m)
	m["child_full_name"] = "Lê Minh Châu"
	other, _ := json.Marshal(m)
	diff := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", writeFile(t, dir, "g.json", string(other)), "--idempotency-key", key)
	if diff.code != exitFail || !strings.Contains(diff.stderr, "different form") {
		t.Fatalf("same key, other form: %+v", diff)
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if len(rows) != 1 {
		t.Fatalf("%d applications stored, want 1", len(rows))
	}
}

// The form can come on standard input, and Vietnamese text in NFD is stored
// in NFC.
func TestSubmitFormFromStdinNormalizesNames(t *testing.T) {
	data := t.TempDir()
	var m map[string]any
	mustJSON(t, cli(t, data, "", "procedures", "example", "birth-registration").stdout, &m)
	nfd := "Nguye\u0302\u0303n Thi\u0323 Hoa" // "Nguyễn Thị Hoa", decomposed
	m["child_full_name"] = nfd
	b, _ := json.Marshal(m)
	r := cli(t, data, string(b), "submit", "--procedure", "birth-registration", "--form", "-")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var got submitResult
	mustJSON(t, r.stdout, &got)
	var shown struct {
		Form map[string]any `json:"form"`
	}
	mustJSON(t, cli(t, data, "", "show", fmt.Sprint(got.ID)).stdout, &shown)
	if name := shown.Form["child_full_name"]; name != "Nguyễn Thị Hoa" {
		t.Fatalf("stored name %q (% x), want NFC", name, name)
	}
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	for i := 0; i < 2; i++ {
		if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	if r := cli(t, data, "", "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "6 events") {
		t.Fatalf("audit verify: %+v", r)
	}
	db, err := sql.Open("sqlite3", filepath.Join(data, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_events_no_update`, `UPDATE audit_events SET to_state = 'done' WHERE seq = 3`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	r := cli(t, data, "", "audit", "verify")
	if r.code != exitFail || !strings.Contains(r.stderr, "event 3") {
		t.Fatalf("tampered audit verify: %+v", r)
	}
}

func TestProceduresTable(t *testing.T) {
	r := cli(t, t.TempDir(), "", "procedures")
	for _, want := range []string{"1.001193", "1.004222", "1.000894", "birth-registration", "Đăng ký khai sinh"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("procedures table lacks %q:\n%s", want, r.stdout)
		}
	}
}

// `motcua run` starts headless, says so, and stops cleanly on SIGTERM.
func TestRunHeadlessStopsOnSignal(t *testing.T) {
	data := t.TempDir()
	cmd := exec.Command(motcua, "run", "--data-dir", data, "--local-portal", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var said strings.Builder
	for line := range lines {
		said.WriteString(line + "\n")
		if strings.Contains(line, "Ctrl-C") {
			break
		}
	}
	if !strings.Contains(said.String(), "HEADLESS") || !strings.Contains(said.String(), data) ||
		!strings.Contains(said.String(), "Card reader: simulated at") ||
		!strings.Contains(said.String(), "local reference portal at http://127.0.0.1:") {
		t.Fatalf("run said:\n%s\n%s", said.String(), stderr.String())
	}
	// An application submitted while the agent runs is delivered to the
	// local portal without anything else to start.
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rows []queueRow
		mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
		if rows[0].State == "received" && rows[0].FileCode != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered by the running agent: %+v\n%s", rows[0], stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() {
		for range lines {
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("run did not stop on SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(data, store.FileName)); err != nil {
		t.Fatalf("run did not create the database: %v", err)
	}
}
