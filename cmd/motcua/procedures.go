package main

import (
	"context"
	"fmt"
	"log/slog"
	"text/tabwriter"
)

func cmdProcedures(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("procedures", "[--json] | example CODE", slog.LevelWarn)
	asJSON := fs.Bool("json", false, "print the whole catalog as JSON")
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	st, cat, err := e.readWithCatalog(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	if len(pos) > 0 {
		if pos[0] != "example" || len(pos) != 2 {
			fmt.Fprintln(e.stderr, "motcua procedures: usage: motcua procedures [--json] | motcua procedures example CODE")
			return exitUsage
		}
		p, err := cat.Lookup(pos[1])
		if err != nil {
			return e.fail("%v", err)
		}
		e.stdout.Write(p.Example())
		return exitOK
	}
	if *asJSON {
		return e.printJSON(cat)
	}
	fmt.Fprintf(e.stdout, "Procedure catalog %s (published %s)\n\n", cat.Version, cat.Published)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tID\tDAYS\tFEE (VND)\tNAME")
	for _, p := range cat.Procedures {
		code := p.Code
		switch {
		case code == "":
			code = "-"
		case !p.CodeVerified:
			code += "?"
		}
		fee := "0"
		if p.Fee.CounterVND > 0 || p.Fee.OnlineVND > 0 {
			fee = fmt.Sprintf("%d / %d online", p.Fee.CounterVND, p.Fee.OnlineVND)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", code, p.ID, p.ProcessingDays, fee, p.Name.VI)
	}
	tw.Flush()
	fmt.Fprintln(e.stdout, "\nA code marked ? is not yet verified against the national procedure database.")
	return exitOK
}
