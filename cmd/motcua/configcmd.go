package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/motcua/motcua/internal/config"
)

// addConfigFlag adds --config to fs.
func addConfigFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "the configuration file (default $"+config.EnvVar+", else "+config.FileName+" in the data directory)")
}

// loadConfig reads the configuration named by the --config flag's value
// (see config.Load), printing why it cannot.
func (e *env) loadConfig(flagPath string) (*config.Config, config.Source, bool) {
	c, src, err := config.Load(flagPath, e.dataDir)
	if err != nil {
		fmt.Fprintf(e.stderr, "motcua: configuration: %v\n", err)
		fmt.Fprintln(e.stderr, "motcua: the agent does not start with a configuration it does not understand; 'motcua config example' prints a valid file")
		return nil, src, false
	}
	return c, src, true
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// portalFromConfig fills the delivery options that the command line and
// $MOTCUA_PORTAL leave open from the configuration file.
func portalFromConfig(fs *flag.FlagSet, up *uplinkFlags, c *config.Config) {
	set := setFlags(fs)
	if !set["portal"] && os.Getenv("MOTCUA_PORTAL") == "" {
		*up.portal = string(c.Portal.URL)
	}
	if !set["insecure"] {
		*up.insecure = c.Portal.Insecure
	}
	if !set["daily-budget"] {
		*up.budget = string(c.Portal.DailyBudget)
	}
	if !set["portal-ca"] {
		*up.ca = c.Portal.CA
	}
}

// cmdConfig prints the effective configuration and where it came from, or
// a commented example file.
func cmdConfig(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("config", "[--config FILE] [--json] | example", slog.LevelWarn)
	path := addConfigFlag(fs)
	asJSON := fs.Bool("json", false, "print the configuration as JSON")
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	if len(pos) > 0 {
		if pos[0] != "example" || len(pos) != 1 {
			fmt.Fprintln(e.stderr, "motcua config: usage: motcua config [--config FILE] [--json] | motcua config example")
			return exitUsage
		}
		e.stdout.Write(config.Example())
		return exitOK
	}
	c, src, ok := e.loadConfig(*path)
	if !ok {
		return exitFail
	}
	envPortal := os.Getenv("MOTCUA_PORTAL")
	if *asJSON {
		out := struct {
			Source config.Source `json:"source"`
			// PortalOverride is $MOTCUA_PORTAL, which takes precedence over
			// portal.url.
			PortalOverride string         `json:"portal_override,omitempty"`
			Config         *config.Config `json:"config"`
		}{src, envPortal, c}
		return e.printJSON(out)
	}
	fmt.Fprintf(e.stdout, "# motcua configuration: %s\n", src)
	if envPortal != "" {
		fmt.Fprintf(e.stdout, "# $MOTCUA_PORTAL overrides portal.url: %s\n", envPortal)
	}
	fmt.Fprintln(e.stdout, "# Command-line flags override these values; 'motcua config example' explains each key.")
	fmt.Fprintln(e.stdout)
	if err := c.WriteTOML(e.stdout); err != nil {
		return e.fail("%v", err)
	}
	return exitOK
}
