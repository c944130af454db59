package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/internal/datasize"
	"github.com/motcua/motcua/internal/portalurl"
	"github.com/motcua/motcua/sync/uplink"
)

// uplinkFlags are the delivery options `run` and `sync` share.
type uplinkFlags struct {
	portal   *string
	insecure *bool
	budget   *string
	// ca is the CA file the portal's certificate must chain to.
	ca *string
	// dailyBudget is budget parsed by check.
	dailyBudget int64
	// status, if set, is told the state of delivery (motcua run's hub).
	status status.Publisher
}

func addUplinkFlags(fs *flag.FlagSet, portalHelp string) *uplinkFlags {
	return &uplinkFlags{
		portal:   fs.String("portal", os.Getenv("MOTCUA_PORTAL"), portalHelp),
		insecure: fs.Bool("insecure", false, "allow plain http to a host other than this machine"),
		budget:   fs.String("daily-budget", "", "cap the upload bytes per day on a metered link, e.g. 50MB"),
		ca:       fs.String("portal-ca", "", "trust only the CA certificates in this PEM file for the portal's TLS certificate (default: [portal] ca in the config file, else the system's)"),
	}
}

// check validates the options, printing a usage error for command name; it
// returns false when they are wrong.
func (u *uplinkFlags) check(e *env, name string) bool {
	if *u.budget != "" {
		n, err := datasize.Parse(*u.budget)
		if err != nil {
			fmt.Fprintf(e.stderr, "motcua %s: --daily-budget: %v\n", name, err)
			return false
		}
		u.dailyBudget = n
	}
	if *u.portal != "" {
		if _, err := portalurl.Check(*u.portal, *u.insecure); err != nil {
			fmt.Fprintf(e.stderr, "motcua %s: %v\n", name, err)
			return false
		}
	}
	return true
}

// worker returns the uplink worker for these options.
func (u *uplinkFlags) worker(e *env, st *store.Store) (*uplink.Worker, error) {
	host, _ := os.Hostname()
	return uplink.New(uplink.Config{Portal: *u.portal, Insecure: *u.insecure, Store: st, Logger: e.explainingLog(),
		DeviceName: host, DailyBudget: u.dailyBudget, Status: u.status, PortalCA: *u.ca})
}

// enrolledPortal sets the portal to the one the kiosk enrolled with
// (motcua enroll) when none is given, with the CA pinned then unless one
// is given, and says whether it did.
func (u *uplinkFlags) enrolledPortal(ctx context.Context, st *store.Store) bool {
	if *u.portal != "" {
		return false
	}
	p, ca, err := uplink.EnrolledPortalCA(ctx, st)
	if err != nil || p == "" {
		return false
	}
	*u.portal = p
	if *u.ca == "" {
		*u.ca = ca
	}
	return true
}
