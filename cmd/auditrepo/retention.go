package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditrepo/auditrepo/auditschema"
)

func init() {
	commands["retention"] = command{summary: "drop audit partitions older than the retention floor, or place a legal hold (as the owner role)", run: retentionCmd}
}

func retentionCmd(ctx context.Context, e *env, args []string) error {
	fs := e.flags("retention")
	var c auditschema.Config
	db := fs.String("db", "", "database URL (default $DATABASE_URL); connect as a member of the owner role")
	registerNames(fs, &c, schemaName, ownerName, auditName, writerName)
	floorS := fs.String("floor", "6y", "keep audit rows this many years (6y at least)")
	dry := fs.Bool("dry-run", false, "report what would be dropped and created; change nothing")
	holdPatient := idFlag(fs, "hold-patient", "place a legal hold on the audit rows of the patient with this `ID`, in decimal (with --reason)")
	holdFrom := fs.String("hold-from", "", "place a legal hold on a period from this day (YYYY-MM-DD, UTC) or instant (RFC 3339), with --reason")
	holdTo := fs.String("hold-to", "", "the held period's last day (YYYY-MM-DD, UTC, included) or end instant (RFC 3339, excluded)")
	reason := fs.String("reason", "", "why the legal hold is placed or released (required with a hold and with --release)")
	release := idFlag(fs, "release", "release the legal hold with this `ID`, in decimal (as placing it printed)")
	if err := parse(fs, args); err != nil {
		return err
	}
	years, err := parseFloor(*floorS)
	if err != nil {
		return err
	}
	from, err := parseDate("--hold-from", *holdFrom, false)
	if err != nil {
		return err
	}
	to, err := parseDate("--hold-to", *holdTo, true)
	if err != nil {
		return err
	}
	// Which flags were given, not their values: a hold flag left empty by a script must not turn the run into
	// dropping partitions.
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	holding := given["hold-patient"] || given["hold-from"] || given["hold-to"]
	switch {
	case given["hold-from"] && *holdFrom == "":
		return usageError{`--hold-from "": want a day (YYYY-MM-DD) or an instant (RFC 3339)`}
	case given["hold-to"] && *holdTo == "":
		return usageError{`--hold-to "": want a day (YYYY-MM-DD) or an instant (RFC 3339)`}
	case given["release"] && release.v <= 0:
		return usageError{fmt.Sprintf("--release %d: legal hold ids are positive (1, 2, ...: as placing the hold printed)", release.v)}
	case given["reason"] && !holding && !given["release"]:
		return usageError{"--reason goes with a hold (--hold-patient, or --hold-from and --hold-to) or --release"}
	case (holding || given["release"]) && (given["dry-run"] || given["floor"]):
		return usageError{"--dry-run and --floor apply to dropping partitions, not to placing or releasing legal holds"}
	case holding && given["release"]:
		return usageError{"--release cannot be combined with a hold"}
	case given["hold-patient"] && (given["hold-from"] || given["hold-to"]):
		return usageError{"a legal hold is on a patient (--hold-patient) or on a period (--hold-from, --hold-to), not both"}
	case holding && strings.TrimSpace(*reason) == "":
		return usageError{"a legal hold needs --reason TEXT"}
	case given["release"] && strings.TrimSpace(*reason) == "":
		return usageError{"releasing a legal hold needs --reason TEXT (why it ends is recorded with it)"}
	case !from.IsZero() && !to.IsZero() && !from.Before(to):
		return usageError{fmt.Sprintf("--hold-from %s is not before --hold-to %s", *holdFrom, *holdTo)}
	}
	pool, err := connect(ctx, e, *db)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := checkRevision(ctx, pool, c, fmt.Errorf("%w %s, such as the migrating user", auditschema.ErrRetentionDenied, c.Owner)); err != nil {
		return err
	}
	switch {
	case given["release"]:
		ok, err := auditschema.Release(ctx, pool, c, release.v, *reason)
		if err != nil {
			return err
		}
		if !ok {
			return usageError{fmt.Sprintf("no active legal hold %d", release.v)}
		}
		fmt.Fprintf(e.stdout, "released legal hold %d\n", release.v)
		return nil
	case given["hold-patient"]:
		id, err := auditschema.HoldPatient(ctx, pool, c, holdPatient.v, *reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "placed legal hold %d on patient %d\n", id, holdPatient.v)
		return nil
	case holding:
		id, err := auditschema.HoldPeriod(ctx, pool, c, from, to, *reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "placed legal hold %d on [%s, %s)\n", id, stamp(from, "-infinity"), stamp(to, "infinity"))
		return nil
	}
	rep, err := auditschema.Retain(ctx, pool, c, years, *dry)
	if err != nil {
		return err
	}
	return printRetention(e, rep, years)
}

// parseFloor reads a floor in years: "7y" or "7".
func parseFloor(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "y"))
	if err != nil {
		return 0, usageError{fmt.Sprintf("--floor %q: give it in years, as in --floor 7y", s)}
	}
	if n < auditschema.MinRetentionYears {
		return 0, usageError{fmt.Sprintf("--floor %s refused: %v", s, auditschema.ErrFloorTooShort)}
	}
	return n, nil
}

func stamp(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format("2006-01-02 15:04:05 MST")
}

func printRetention(e *env, rep *auditschema.RetentionReport, years int) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tPARTITION\tFROM\tTO\tROWS\tIDS\tDETAIL")
	counts := map[string]int{}
	for _, p := range rep.Partitions {
		counts[p.Action]++
		ids := ""
		if p.MinID != nil && p.MaxID != nil {
			ids = fmt.Sprintf("%d-%d", *p.MinID, *p.MaxID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", p.Action, p.Partition, stamp(p.From, ""), stamp(p.To, ""), p.Rows, ids, p.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verb := "dropped"
	if rep.DryRun {
		verb = "would drop (dry run)"
	}
	_, err := fmt.Fprintf(e.stdout, "floor %d years: %s %d partitions, kept %d under legal hold; %d rows in the default partition\n",
		years, verb, counts["dropped"]+counts["would_drop"], counts["kept"], defaultRows(rep))
	return err
}

func defaultRows(rep *auditschema.RetentionReport) int64 {
	for _, p := range rep.Partitions {
		if p.Action == "default" {
			return p.Rows
		}
	}
	return 0
}
