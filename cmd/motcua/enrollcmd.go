package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/motcua/motcua/sync/uplink"
)

// cmdEnroll enrolls the kiosk with a portal, with a one-time code the
// portal's operator made (motcua portal enroll-code): the kiosk makes its
// Ed25519 key (DATADIR/device.key), registers it, and keeps the portal's
// URL, its device id and the agency code; run and sync then deliver there.
func cmdEnroll(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("enroll", "--portal URL --code CODE [--portal-ca FILE] [--insecure]", slog.LevelInfo)
	up := addUplinkFlags(fs, "the portal's base URL")
	code := fs.String("code", "", "the one-time enrollment code from the portal's operator")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	if *up.portal == "" || *code == "" {
		fmt.Fprintln(e.stderr, "motcua enroll: --portal URL and --code CODE are required (the portal's operator makes the code with motcua portal enroll-code)")
		return exitUsage
	}
	if !up.check(e, "enroll") {
		return exitUsage
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	host, _ := os.Hostname()
	w, err := uplink.New(uplink.Config{Portal: *up.portal, Insecure: *up.insecure, Store: st, Logger: e.explainingLog(),
		DeviceName: host, EnrollCode: *code, PortalCA: *up.ca})
	if err != nil {
		return e.fail("%v", err)
	}
	got, err := w.Enroll(ctx)
	if err != nil {
		return e.fail("enroll with %s: %v", *up.portal, err)
	}
	fmt.Fprintf(e.stdout, "Enrolled with %s as device %s (agency %s, key %s).\n", got.Portal, got.DeviceID, got.AgencyCode, got.Key)
	return exitOK
}
