package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/sync/uplink"
)

const auditSynopsis = "verify | export --from DATE --to DATE [--out FILE] | check FILE [--public-key HEX]"

func cmdAudit(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("audit", auditSynopsis, slog.LevelWarn)
	from := fs.String("from", "", "export: the first day (YYYY-MM-DD, local time) or instant (RFC 3339)")
	to := fs.String("to", "", "export: the last day (YYYY-MM-DD, included) or instant (RFC 3339)")
	out := fs.String("out", "", "export: the file to write (default: standard output)")
	pubHex := fs.String("public-key", "", "check: the kiosk's export public key, in hex, to trust (default: the key the file names)")
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	switch {
	case len(pos) == 1 && pos[0] == "verify":
		return e.auditVerify(ctx)
	case len(pos) == 1 && pos[0] == "export":
		return e.auditExport(ctx, *from, *to, *out)
	case len(pos) == 2 && pos[0] == "check":
		return e.auditCheck(pos[1], *pubHex)
	}
	fmt.Fprintln(e.stderr, "motcua audit: usage: motcua audit "+auditSynopsis)
	return exitUsage
}

func (e *env) auditVerify(ctx context.Context) int {
	st, err := e.readStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	if err := st.IntegrityCheck(ctx); err != nil {
		return e.fail("database: %v", err)
	}
	n, err := st.VerifyAudit(ctx)
	if err != nil {
		return e.fail("audit log NOT intact after %d good events: %v", n, err)
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d events, database integrity ok\n", n)
	return exitOK
}

// exportSigningKey returns the Ed25519 key that signs audit exports: the
// kiosk's device key (DATADIR/device.key), the one the portal knows it by
// after enrollment, so an inspector can check an export against the key
// the portal recorded for the device. It is made on first use.
func exportSigningKey(dataDir string) (ed25519.PrivateKey, error) {
	key, err := uplink.LoadOrCreateDeviceKey(filepath.Join(dataDir, uplink.DeviceKeyFile))
	if err != nil {
		return nil, fmt.Errorf("audit export key: %w", err)
	}
	return key, nil
}

// parseBound reads --from or --to: a local date (the whole day for --to)
// or an RFC 3339 instant.
func parseBound(flag, v string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, time.Local)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q is not a date (YYYY-MM-DD) or an RFC 3339 time", flag, v)
	}
	if end {
		d = d.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return d, nil
}

// auditExport writes the events of a period, with the state of the whole
// log, signed, for inspectors.
func (e *env) auditExport(ctx context.Context, fromArg, toArg, out string) int {
	if fromArg == "" || toArg == "" {
		fmt.Fprintln(e.stderr, "motcua audit export: --from and --to are required")
		return exitUsage
	}
	from, err := parseBound("from", fromArg, false)
	if err == nil {
		var to time.Time
		if to, err = parseBound("to", toArg, true); err == nil && to.Before(from) {
			err = fmt.Errorf("--to %s is before --from %s", toArg, fromArg)
		}
		if err == nil {
			return e.writeExport(ctx, from, to, out)
		}
	}
	fmt.Fprintf(e.stderr, "motcua audit export: %v\n", err)
	return exitUsage
}

func (e *env) writeExport(ctx context.Context, from, to time.Time, out string) int {
	st, err := e.readStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	key, err := exportSigningKey(e.dataDir)
	if err != nil {
		return e.fail("%v", err)
	}
	x := &audit.Export{ExportedAt: e.now().UTC(), From: from.UTC(), To: to.UTC(), Device: e.dataDir}
	n, err := st.VerifyAudit(ctx)
	x.LogEvents, x.LogVerified = n, err == nil
	if err != nil {
		x.LogProblem = err.Error()
	}
	seq, head, err := st.AuditHead(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	x.LogEvents, x.LogHead = seq, hex.EncodeToString(head)
	evs, err := st.EventsBetween(ctx, from, to)
	if err != nil {
		return e.fail("%v", err)
	}
	x.Events = []audit.ExportedEvent{}
	for i := range evs {
		x.Events = append(x.Events, audit.Exported(&evs[i]))
	}
	b, err := audit.Sign(x, key)
	if err != nil {
		return e.fail("%v", err)
	}
	if out == "" {
		_, err = e.stdout.Write(b)
	} else {
		err = os.WriteFile(out, b, 0o600)
	}
	if err != nil {
		return e.fail("write audit export: %v", err)
	}
	if out != "" {
		fmt.Fprintf(e.stdout, "Wrote %d audit events (%s to %s) to %s, signed by key %s.\n", len(x.Events),
			from.Local().Format(time.RFC3339), to.Local().Format(time.RFC3339), out, hex.EncodeToString(key.Public().(ed25519.PublicKey)))
	}
	if !x.LogVerified {
		fmt.Fprintf(e.stderr, "motcua: warning: the audit log is NOT intact; the export says so: %s\n", x.LogProblem)
	}
	return exitOK
}

// auditCheck checks an export file as an inspector does.
func (e *env) auditCheck(path, pubHex string) int {
	var trusted ed25519.PublicKey
	if pubHex != "" {
		b, err := hex.DecodeString(pubHex)
		if err != nil || len(b) != ed25519.PublicKeySize {
			fmt.Fprintf(e.stderr, "motcua audit check: --public-key %q is not an Ed25519 public key in hex (64 digits)\n", pubHex)
			return exitUsage
		}
		trusted = b
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return e.fail("%v", err)
	}
	x, signer, err := audit.ReadExport(data, trusted)
	if err != nil {
		return e.fail("%s: %v", path, err)
	}
	state := "intact"
	if !x.LogVerified {
		state = "NOT intact (" + x.LogProblem + ")"
	}
	fmt.Fprintf(e.stdout, "%s: signature ok (key %s); %d events from %s to %s, chained; the kiosk's log was %s with %d events when exported at %s\n",
		path, hex.EncodeToString(signer), len(x.Events), x.From.Local().Format(time.RFC3339), x.To.Local().Format(time.RFC3339),
		state, x.LogEvents, x.ExportedAt.Local().Format(time.RFC3339))
	if !x.LogVerified {
		return exitFail
	}
	return exitOK
}
