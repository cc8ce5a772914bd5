package vet_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/auditschema"

	"example.com/vet/gen/db"
	"example.com/vet/gen/repo"
	"example.com/vet/migrations"
)

// adminURL is a superuser's connection to an existing database (VET_ADMIN_URL, by default the local server's
// postgres database).
func adminURL() string {
	if u := os.Getenv("VET_ADMIN_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres"
}

// dbURL is adminURL with the user and database replaced.
func dbURL(t *testing.T, user, dbname string) string {
	t.Helper()
	u, err := url.Parse(adminURL())
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		u.User = url.User(user)
	}
	u.Path = "/" + dbname
	return u.String()
}

// freshDB creates a database with a random name and drops it when the test ends.
func freshDB(t *testing.T, ctx context.Context) string {
	t.Helper()
	admin, err := pgx.Connect(ctx, adminURL())
	if err != nil {
		t.Fatalf("connecting to %s: %v", adminURL(), err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "vet_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer admin.Close(context.Background())
		if _, err := admin.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	return name
}

func connect(t *testing.T, ctx context.Context, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting to %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func exec(t *testing.T, ctx context.Context, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestVet installs auditrepo the way the README says (auditschema.Install, the module's own migrations,
// repo.Install), makes audited and raw writes as the application and reads the trail as the reviewer.
func TestVet(t *testing.T) {
	ctx := context.Background()
	name := freshDB(t, ctx)
	super := connect(t, ctx, dbURL(t, "", name))

	// 1. The audit schema and the roles.
	if _, err := auditschema.Install(ctx, super, auditschema.Config{}); err != nil {
		t.Fatalf("auditschema.Install: %v", err)
	}
	// 2. The module's own migrations: tables, OWNER TO auditrepo_owner, GRANTs to auditrepo_app.
	if err := migrations.Up(ctx, super); err != nil {
		t.Fatal(err)
	}

	// 3a. A PHI table with the wrong owner and a missing grant: repo.Install refuses, names the fixing SQL and
	// changes nothing.
	var me string
	if err := super.QueryRow(ctx, "SELECT current_user").Scan(&me); err != nil {
		t.Fatal(err)
	}
	exec(t, ctx, super, "ALTER TABLE pets OWNER TO "+pgx.Identifier{me}.Sanitize())
	exec(t, ctx, super, "REVOKE DELETE ON visits FROM auditrepo_app")
	err := repo.Install(ctx, super, auditschema.Config{})
	if !errors.Is(err, auditschema.ErrNotReady) {
		t.Fatalf("repo.Install with a wrong owner and a missing grant: got %v, want an error matching auditschema.ErrNotReady", err)
	}
	for _, fix := range []string{
		`ALTER TABLE public.pets OWNER TO "auditrepo_owner";`,
		`GRANT DELETE ON public.visits TO "auditrepo_app";`,
	} {
		if !strings.Contains(err.Error(), "fix: "+fix) {
			t.Errorf("repo.Install's error does not name the fix %q:\n%v", fix, err)
		}
	}
	t.Logf("repo.Install on an unready database:\n%v", err)
	var state string
	const stateSQL = `SELECT format('owner=%s app_delete=%s triggers=%s functions=%s audited=%s',
		(SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.pets'::regclass),
		has_table_privilege('auditrepo_app', 'public.visits', 'DELETE'),
		(SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN ('public.clients'::regclass, 'public.pets'::regclass, 'public.visits'::regclass)),
		(SELECT count(*) FROM pg_proc WHERE pronamespace = 'auditrepo'::regnamespace AND proname LIKE 'audit\_public\_%'),
		(SELECT count(*) FROM auditrepo.audited_tables))`
	if err := super.QueryRow(ctx, stateSQL).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("owner=%s app_delete=f triggers=0 functions=0 audited=0", me); state != want {
		t.Fatalf("after the refused install: %s, want %s (nothing changed)", state, want)
	}
	// 3b. Run exactly the SQL the error names; then the install succeeds, and again (it is re-runnable).
	var nr *auditschema.NotReadyError
	if !errors.As(err, &nr) || len(nr.Problems) != 2 {
		t.Fatalf("want a *auditschema.NotReadyError with 2 problems, got %#v", err)
	}
	for _, p := range nr.Problems {
		exec(t, ctx, super, p.Fix)
	}
	for range 2 {
		if err := repo.Install(ctx, super, auditschema.Config{}); err != nil {
			t.Fatalf("repo.Install after the fixes: %v", err)
		}
	}

	// 4. The application writes, through the generated repositories and raw.
	pool, err := pgxpool.New(ctx, dbURL(t, "auditrepo_app", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	r := repo.New(pool)
	actx := audit.WithActor(ctx, audit.Actor{
		Kind: audit.KindUser, UserID: 7, IP: netip.MustParseAddr("203.0.113.9"),
		UserAgent: "vet-desk/1.0\u200b", RequestID: "req-42",
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Another client with two pets and two visits first, so that ids differ between the tables and the trail
	// of Ada (read by patient below) shows that the patient came through the path, not from a row's own id.
	other, err := r.Client.Create(actx, db.CreateClientParams{Name: "Bo", Phone: "555-0111", PortalPin: "1111"})
	must(err)
	for _, name := range []string{"Tom", "Kit"} {
		op, err := r.Pet.Create(actx, db.CreatePetParams{ClientID: other.ID, Name: name, Species: "cat"})
		must(err)
		_, err = r.Visit.Create(actx, db.CreateVisitParams{PetID: op.ID, Reason: "checkup"})
		must(err)
	}
	c, err := r.Client.Create(actx, db.CreateClientParams{Name: "Ada", Phone: "555-0100", PortalPin: "9876"})
	must(err)
	p, err := r.Pet.Create(actx, db.CreatePetParams{ClientID: c.ID, Name: "Rex", Species: "dog"})
	must(err)
	v, err := r.Visit.Create(actx, db.CreateVisitParams{PetID: p.ID, Reason: "limp"})
	must(err)
	_, err = r.Visit.UpdateDiagnosis(actx, db.UpdateVisitDiagnosisParams{ID: v.ID, Diagnosis: "sprain"})
	must(err)
	_, err = r.Client.UpdatePhone(actx, db.UpdateClientPhoneParams{ID: c.ID, Phone: "555-0199"})
	must(err)
	_, err = r.Pet.Rename(actx, db.RenamePetParams{ID: p.ID, Name: "Rexy"})
	must(err)
	// Raw SQL by the application role: recorded, unattributed, with the patient found the same way.
	_, err = pool.Exec(ctx, "UPDATE pets SET species = 'wolf' WHERE id = $1", p.ID)
	must(err)
	var rawVisit int64
	must(pool.QueryRow(ctx, "INSERT INTO visits (pet_id, reason) VALUES ($1, 'raw') RETURNING id", p.ID).Scan(&rawVisit))
	must(r.Visit.Delete(actx, v.ID))
	must(r.Visit.Delete(actx, rawVisit))
	must(r.Pet.Delete(actx, p.ID))
	must(r.Client.Delete(actx, c.ID))
	// A repository call without an actor is refused: nothing is written.
	if _, err := r.Client.Create(ctx, db.CreateClientParams{Name: "Nobody"}); err == nil {
		t.Error("Client.Create without an actor in the context succeeded")
	}
	// The application cannot read (or write) the trail.
	if _, err := pool.Exec(ctx, "SELECT count(*) FROM auditrepo.audit_log"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("the application role read the audit table: %v", err)
	}

	// 5. The trail, read with plain SQL as the reviewer: Ada's (by patient_id), and Bo's.
	rev := connect(t, ctx, dbURL(t, "auditrepo_reviewer", name))
	var otherRows int
	must(rev.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log WHERE patient_id = $1 AND action = 'CREATE'", other.ID).Scan(&otherRows))
	if otherRows != 5 {
		t.Errorf("Bo's trail has %d CREATE rows, want 5 (his record, two pets, two visits)", otherRows)
	}
	if c.ID == p.ID || c.ID == v.ID || c.ID == rawVisit {
		t.Fatalf("ids overlap (client %d, pet %d, visits %d and %d): the patient checks would prove nothing", c.ID, p.ID, v.ID, rawVisit)
	}
	rows, err := rev.Query(ctx, `
		SELECT actor_kind, coalesce(actor_id::text, '-'), coalesce(host(ip), '-'), coalesce(user_agent, '-'),
			coalesce(request_id, '-'), coalesce(method, '-'), action, target_table, target_id, patient_id,
			db_role, changes
		FROM auditrepo.audit_log WHERE patient_id = $1 ORDER BY id`, c.ID)
	must(err)
	type row struct {
		Kind, Actor, IP, UA, Req, Method, Action, Table string
		Target, Patient                                 int64
		Role                                            string
		Changes                                         map[string]any
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	must(err)
	user := func(method, action, table string, target int64) row {
		return row{"user", "7", "203.0.113.9", "vet-desk/1.0", "req-42", method, action, table, target, c.ID, "auditrepo_app", nil}
	}
	raw := func(action, table string, target int64) row {
		return row{"unattributed", "-", "-", "-", "-", "-", action, table, target, c.ID, "auditrepo_app", nil}
	}
	want := []row{
		user("ClientRepo.Create", "CREATE", "clients", c.ID), // self
		user("PetRepo.Create", "CREATE", "pets", p.ID),       // pets.client_id
		user("VisitRepo.Create", "CREATE", "visits", v.ID),   // visits.pet_id -> pets.client_id
		user("VisitRepo.UpdateDiagnosis", "UPDATE", "visits", v.ID),
		user("ClientRepo.UpdatePhone", "UPDATE", "clients", c.ID),
		user("PetRepo.Rename", "UPDATE", "pets", p.ID),
		raw("UPDATE", "pets", p.ID),
		raw("CREATE", "visits", rawVisit),
		user("VisitRepo.Delete", "DELETE", "visits", v.ID),
		user("VisitRepo.Delete", "DELETE", "visits", rawVisit),
		user("PetRepo.Delete", "DELETE", "pets", p.ID),
		user("ClientRepo.Delete", "DELETE", "clients", c.ID),
	}
	if len(got) != len(want) {
		for _, g := range got {
			t.Logf("%+v", g)
		}
		t.Fatalf("got %d audit rows, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		g.Changes, w.Changes = nil, nil
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("audit row %d:\n got %+v\nwant %+v", i+1, g, want[i])
		}
	}
	changed := func(i int) []string {
		var s []string
		for _, f := range got[i].Changes["changed_fields"].([]any) {
			s = append(s, f.(string))
		}
		return s
	}
	// The excluded PIN is never written; the redacted diagnosis is named, never shown.
	if after := got[0].Changes["after"].(map[string]any); after["name"] != "Ada" || after["portal_pin"] != nil {
		t.Errorf("client CREATE image: %v (want the name, no portal_pin)", after)
	}
	if ch, after := changed(3), got[3].Changes["after"].(map[string]any); !slices.Equal(ch, []string{"diagnosis"}) || after["diagnosis"] != "[REDACTED]" {
		t.Errorf("visit UPDATE: changed %v, after %v (want [diagnosis], [REDACTED])", ch, after)
	}
	if ch := changed(4); !slices.Contains(ch, "phone") {
		t.Errorf("client UPDATE changed %v, want phone among them", ch)
	}
	if ch, after := changed(6), got[6].Changes["after"].(map[string]any); !slices.Equal(ch, []string{"species"}) || after["species"] != "wolf" {
		t.Errorf("raw pet UPDATE: changed %v, after %v (want [species], wolf)", ch, after)
	}
	for _, g := range got {
		t.Logf("%-12s %-3s %-26s %-6s %-7s target=%d patient=%d", g.Kind, g.Actor, g.Method, g.Action, g.Table, g.Target, g.Patient)
	}
}
