package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// cli runs auditrepo in-process with vars as its environment.
type cli struct {
	t    *testing.T
	vars map[string]string
}

func (c cli) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return c.vars[k] }}
	code = run(context.Background(), e, args)
	c.t.Logf("auditrepo %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

func (c cli) want(code int, args ...string) string {
	c.t.Helper()
	got, out, errs := c.run(args...)
	if got != code {
		c.t.Fatalf("auditrepo %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, out, errs)
	}
	return out + errs
}

// sealDB is an installed audit schema with some rows, and the URL to reach it.
func sealDB(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	db := pgtest.Audited(t, auditschema.Config{})
	insert(t, db, 5)
	return db, db.Config().ConnString()
}

// insert adds n rows for patient 1, and waits until they are final: other tests' sessions on the server may
// hold the snapshot xmin back.
func insert(t *testing.T, db *pgxpool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	var xid uint64
	err := db.QueryRow(ctx, `WITH r AS (INSERT INTO auditrepo.audit_log (actor_kind, action, target_table, target_id, patient_id, changes)
		SELECT 'user', 'UPDATE', 'patients', g, 1, jsonb_build_object('n', g) FROM generate_series(1, $1) g RETURNING transaction_id)
		SELECT max(transaction_id) FROM r`, n).Scan(&xid)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFinal(t, db, xid)
}

func TestKeygen(t *testing.T) {
	c := cli{t: t}
	dir := t.TempDir()
	out := c.want(0, "keygen", "--name", "clinic.example-audit", "--out", dir)
	if !strings.HasPrefix(out, "clinic.example-audit+") {
		t.Fatalf("keygen printed %q, want the verifier key", out)
	}
	info, err := os.Stat(filepath.Join(dir, "clinic.example-audit.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", info, err)
	}
	pub, err := os.ReadFile(filepath.Join(dir, "clinic.example-audit.pub"))
	if err != nil || !strings.HasPrefix(out, string(pub)) {
		t.Fatalf("pub file %q, %v; printed %q", pub, err, out)
	}
	c.want(2, "keygen", "--name", "clinic.example-audit", "--out", dir) // never overwrites a key
	// A public key in the way: neither file is written, so no private key is left beside another key's public one.
	if err := os.WriteFile(filepath.Join(dir, "lone.pub"), []byte("someone else's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.want(2, "keygen", "--name", "lone", "--out", dir)
	if _, err := os.Stat(filepath.Join(dir, "lone.key")); !os.IsNotExist(err) {
		t.Fatalf("keygen left lone.key beside another lone.pub: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "lone.pub")); err != nil || string(b) != "someone else's\n" {
		t.Fatalf("lone.pub is now %q, %v", b, err)
	}
	c.want(2, "keygen", "--out", dir)
	c.want(2, "keygen", "--name", "a/b", "--out", dir)
	// "." and ".." would name files beside or above --out.
	sub := filepath.Join(dir, "sub")
	for _, name := range []string{".", ".."} {
		c.want(2, "keygen", "--name", name, "--out", sub)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.key")); len(matches) != 1 {
		t.Fatalf("keys in %s: %v, want only clinic.example-audit.key", dir, matches)
	}
	c.want(2, "keygen", "--name", "x", "extra")
}

func TestSealVerify(t *testing.T) {
	db, url := sealDB(t)
	keys, cps := t.TempDir(), t.TempDir()
	c := cli{t: t, vars: map[string]string{"DATABASE_URL": url}}
	c.want(0, "keygen", "--name", "clinic", "--out", keys)
	key, pub := filepath.Join(keys, "clinic.key"), filepath.Join(keys, "clinic.pub")

	c.want(2, "seal", "--checkpoints", cps)                 // no key
	c.want(2, "seal", "--key", key)                         // no checkpoint directory
	c.want(2, "verify", "--checkpoints", cps)               // no public key
	c.want(2, "verify", "--pub", key, "--checkpoints", cps) // a private key is not a public key
	if out := c.want(0, "seal", "--key", key, "--checkpoints", cps); !strings.Contains(out, "tree size 5") {
		t.Fatalf("seal printed %q", out)
	}
	c.want(0, "seal", "--key", key, "--checkpoints", cps) // nothing new
	skey, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	insert(t, db, 3)
	withEnv := cli{t: t, vars: map[string]string{"DATABASE_URL": url, sealKeyEnv: string(skey)}}
	if out := withEnv.want(0, "seal", "--checkpoints", cps); !strings.Contains(out, "tree size 8") {
		t.Fatalf("seal printed %q", out)
	}
	if out := c.want(0, "verify", "--pub", pub, "--checkpoints", cps); !strings.Contains(out, "8 rows match 2 checkpoints") {
		t.Fatalf("verify printed %q", out)
	}
	if out := c.want(0, "verify", "--pub", pub, "--checkpoints", cps, "--patient", "1"); !strings.Contains(out, "patient 1: 8 inclusion proofs verified") {
		t.Fatalf("verify --patient printed %q", out)
	}
	c.want(2, "verify", "--pub", pub, "--checkpoints", cps, "--patient", "one")
	c.want(2, "verify", "--pub", pub, "--checkpoints", cps, "--db", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")

	// Another key's public key: every checkpoint is badly signed.
	c.want(0, "keygen", "--name", "clinic", "--out", filepath.Join(keys, "other"))
	if out := c.want(1, "verify", "--pub", filepath.Join(keys, "other", "clinic.pub"), "--checkpoints", cps); !strings.Contains(out, "bad checkpoint: ") ||
		!strings.Contains(out, "signed by clinic+") || !strings.Contains(out, ", not by the key given (clinic+") {
		t.Fatalf("verify with another key printed %q", out)
	}
	// Sealing with another key is refused, naming the trail's key, and adds no checkpoint.
	insert(t, db, 1)
	if out := c.want(2, "seal", "--key", filepath.Join(keys, "other", "clinic.key"), "--checkpoints", cps); !strings.Contains(out, "sealed with key clinic+") {
		t.Fatalf("seal with another key printed %q", out)
	}
	if out := c.want(0, "verify", "--pub", pub, "--checkpoints", cps); !strings.Contains(out, "8 rows match 2 checkpoints") {
		t.Fatalf("verify after sealing with another key printed %q", out)
	}

	var id int64
	if err := db.QueryRow(context.Background(), "SELECT id FROM auditrepo.audit_log ORDER BY id OFFSET 2 LIMIT 1").Scan(&id); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "ALTER TABLE auditrepo.audit_log DISABLE TRIGGER USER")
	mustExec(t, db, "UPDATE auditrepo.audit_log SET actor_id = 99 WHERE id = $1", id)
	if out := c.want(1, "verify", "--pub", pub, "--checkpoints", cps); !strings.Contains(out, fmt.Sprintf("first bad row: %d: edited", id)) {
		t.Fatalf("verify after editing row %d printed %q", id, out)
	}
	c.want(1, "verify", "--pub", pub, "--checkpoints", cps, "--patient", "1")
}

// TestSealRotateKey: seal --key NEW --previous-key OLD hands the trail over to a new key of the same name in the
// next checkpoint that covers new rows; then --key NEW alone seals, and verify needs both public keys.
func TestSealRotateKey(t *testing.T) {
	db, url := sealDB(t)
	keys, cps := t.TempDir(), t.TempDir()
	c := cli{t: t, vars: map[string]string{"DATABASE_URL": url}}
	c.want(0, "keygen", "--name", "clinic", "--out", keys)
	c.want(0, "keygen", "--name", "clinic", "--out", filepath.Join(keys, "new"))
	c.want(0, "keygen", "--name", "clinic", "--out", filepath.Join(keys, "stranger"))
	c.want(0, "keygen", "--name", "other", "--out", keys)
	oldKey, oldPub := filepath.Join(keys, "clinic.key"), filepath.Join(keys, "clinic.pub")
	newKey, newPub := filepath.Join(keys, "new", "clinic.key"), filepath.Join(keys, "new", "clinic.pub")
	c.want(0, "seal", "--key", oldKey, "--checkpoints", cps)

	// Nothing new to seal: no handover yet, and seal says so.
	if out := c.want(0, "seal", "--key", newKey, "--previous-key", oldKey, "--checkpoints", cps); !strings.Contains(out, "no key handover yet") {
		t.Fatalf("seal --previous-key with nothing to seal printed %q", out)
	}
	insert(t, db, 2)
	// Refused, as usage errors, writing nothing: a previous key that is not the trail's, one of another name, a
	// public key given as the previous key, the new key alone.
	for _, args := range [][]string{
		{"--key", newKey, "--previous-key", filepath.Join(keys, "stranger", "clinic.key")},
		{"--key", newKey, "--previous-key", newKey},
		{"--key", newKey, "--previous-key", filepath.Join(keys, "other.key")},
		{"--key", newKey, "--previous-key", oldPub},
		{"--key", newKey},
	} {
		c.want(2, append(append([]string{"seal"}, args...), "--checkpoints", cps)...)
	}
	out := c.want(0, "seal", "--key", newKey, "--previous-key", oldKey, "--checkpoints", cps)
	if !strings.Contains(out, "tree size 7") || !strings.Contains(out, "handed the seal key over from clinic+") {
		t.Fatalf("seal --previous-key printed %q", out)
	}
	insert(t, db, 1)
	if out := c.want(0, "seal", "--key", newKey, "--checkpoints", cps); !strings.Contains(out, "tree size 8") {
		t.Fatalf("seal with the new key printed %q", out)
	}
	insert(t, db, 1)
	if out := c.want(2, "seal", "--key", oldKey, "--checkpoints", cps); !strings.Contains(out, "the trail is sealed with key clinic+") {
		t.Fatalf("seal with the old key after the handover printed %q", out)
	}
	// The previous key from the environment, given again after the handover, is not needed.
	oldSkey, err := os.ReadFile(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	withEnv := cli{t: t, vars: map[string]string{"DATABASE_URL": url, previousKeyEnv: string(oldSkey)}}
	if out := withEnv.want(0, "seal", "--key", newKey, "--checkpoints", cps); !strings.Contains(out, "tree size 9") || !strings.Contains(out, "--previous-key was not needed") {
		t.Fatalf("seal with $%s after the handover printed %q", previousKeyEnv, out)
	}

	out = c.want(0, "verify", "--pub", oldPub, "--pub", newPub, "--checkpoints", cps)
	if !strings.Contains(out, "tree size 7: the seal key was handed over from clinic+") || !strings.Contains(out, "9 rows match 4 checkpoints") {
		t.Fatalf("verify with both keys printed %q", out)
	}
	c.want(0, "verify", "--pub", newPub, "--pub", oldPub, "--checkpoints", cps, "--patient", "1")
	if out := c.want(1, "verify", "--pub", newPub, "--checkpoints", cps); !strings.Contains(out, "tree size 5 in the database: signed by clinic+") {
		t.Fatalf("verify with the new key alone printed %q", out)
	}
	c.want(1, "verify", "--pub", oldPub, "--checkpoints", cps)
	if out := c.want(2, "verify", "--pub", oldPub, "--pub", filepath.Join(keys, "other.pub"), "--checkpoints", cps); !strings.Contains(out, "a trail's keys share its name") {
		t.Fatalf("verify with keys of two names printed %q", out)
	}
}

// TestSealVerifyMissingDir: a --checkpoints directory that does not exist is a usage error naming it for verify
// (it would pass for an empty copy after a superuser deleted every checkpoint and leaf), and for seal once the
// database has a checkpoint; the first seal creates it. --nats-bucket without --nats is a usage error.
func TestSealVerifyMissingDir(t *testing.T) {
	db, url := sealDB(t)
	keys, cps, typo := t.TempDir(), filepath.Join(t.TempDir(), "checkpoints"), filepath.Join(t.TempDir(), "typo")
	c := cli{t: t, vars: map[string]string{"DATABASE_URL": url}}
	c.want(0, "keygen", "--name", "clinic", "--out", keys)
	key, pub := filepath.Join(keys, "clinic.key"), filepath.Join(keys, "clinic.pub")
	missing := "checkpoint directory " + cps + " does not exist"
	if out := c.want(2, "verify", "--pub", pub, "--checkpoints", cps); !strings.Contains(out, missing) {
		t.Fatalf("verify before any seal printed %q", out)
	}
	if out := c.want(0, "seal", "--key", key, "--checkpoints", cps); !strings.Contains(out, "tree size 5") {
		t.Fatalf("first seal printed %q", out)
	}
	c.want(0, "verify", "--pub", pub, "--checkpoints", cps)
	insert(t, db, 2)
	if out := c.want(2, "seal", "--key", key, "--checkpoints", typo); !strings.Contains(out, "checkpoint directory "+typo+" does not exist") {
		t.Fatalf("seal with a missing directory after a checkpoint printed %q", out)
	}
	if _, err := os.Stat(typo); !os.IsNotExist(err) {
		t.Fatalf("seal created %s: %v", typo, err)
	}

	mustExec(t, db, "ALTER TABLE auditrepo.seal_checkpoint DISABLE TRIGGER USER")
	mustExec(t, db, "ALTER TABLE auditrepo.seal_leaf DISABLE TRIGGER USER")
	mustExec(t, db, "DELETE FROM auditrepo.seal_checkpoint")
	mustExec(t, db, "DELETE FROM auditrepo.seal_leaf")
	if out := c.want(2, "verify", "--pub", pub, "--checkpoints", typo); !strings.Contains(out, "checkpoint directory "+typo+" does not exist") {
		t.Fatalf("verify of a wiped database with a missing directory printed %q", out)
	}
	c.want(1, "verify", "--pub", pub, "--checkpoints", cps)

	for _, cmd := range [][]string{{"seal", "--key", key}, {"verify", "--pub", pub}} {
		if out := c.want(2, append(cmd, "--checkpoints", cps, "--nats-bucket", "b")...); !strings.Contains(out, "--nats-bucket goes with --nats URL") {
			t.Errorf("%s --nats-bucket without --nats printed %q", cmd[0], out)
		}
	}
}

// seal and verify share the copies' flags, but not their help: seal writes the copies (creating them for the
// first checkpoint), verify only reads them and refuses one that does not exist.
func TestSealVerifyHelp(t *testing.T) {
	for _, c := range []struct {
		cmd, flag string
		want, not string
	}{
		{"seal", "checkpoints", "except for the first seal, which creates it", ""},
		{"seal", "nats", "also keep the checkpoints", ""},
		{"verify", "checkpoints", "a missing directory is refused, never read as an empty copy", "first seal"},
		{"verify", "nats", "also check the checkpoints' copy in the NATS JetStream key-value bucket", "also keep"},
	} {
		got := usageBlocks(t, c.cmd)[c.flag]
		if !strings.Contains(got, c.want) || c.not != "" && strings.Contains(got, c.not) {
			t.Errorf("%s -h, --%s:\n%s\nwant %q in it, and not %q", c.cmd, c.flag, got, c.want, c.not)
		}
	}
}

// TestSealWaitingRows: rows committed after an open transaction began writing are not final, so seal seals
// nothing; it says how many rows wait and names the oldest open transaction, and seals them once it ends.
func TestSealWaitingRows(t *testing.T) {
	db, url := sealDB(t)
	keys, cps := t.TempDir(), t.TempDir()
	c := cli{t: t, vars: map[string]string{"DATABASE_URL": url}}
	c.want(0, "keygen", "--name", "clinic", "--out", keys)
	key := filepath.Join(keys, "clinic.key")
	c.want(0, "seal", "--key", key, "--checkpoints", cps)

	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var pid int
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid() FROM pg_current_xact_id()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `INSERT INTO auditrepo.audit_log (actor_kind, action, target_table, target_id, patient_id, changes)
		SELECT 'user', 'UPDATE', 'patients', g, 1, '{}' FROM generate_series(1, 3) g`)
	out := c.want(0, "seal", "--key", key, "--checkpoints", cps)
	if !strings.Contains(out, "nothing to seal: 3 rows wait behind an open transaction (anywhere in the cluster") ||
		!strings.Contains(out, "; the oldest is pid ") {
		t.Fatalf("seal with rows waiting printed %q", out)
	}
	t.Logf("the held transaction is pid %d", pid)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var xid uint64
	if err := db.QueryRow(ctx, "SELECT max(transaction_id) FROM auditrepo.audit_log").Scan(&xid); err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFinal(t, db, xid)
	if out := c.want(0, "seal", "--key", key, "--checkpoints", cps); !strings.Contains(out, "sealed 3 rows") {
		t.Fatalf("seal after the transaction ended printed %q", out)
	}
	if out := c.want(0, "seal", "--key", key, "--checkpoints", cps); !strings.Contains(out, "nothing to seal: no row became final since the last checkpoint") {
		t.Fatalf("seal with nothing new printed %q", out)
	}
}

func TestSealKeyPermissions(t *testing.T) {
	_, url := sealDB(t)
	keys := t.TempDir()
	c := cli{t: t, vars: map[string]string{"DATABASE_URL": url}}
	c.want(0, "keygen", "--name", "clinic", "--out", keys)
	key := filepath.Join(keys, "clinic.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := c.want(2, "seal", "--key", key, "--checkpoints", t.TempDir()); !strings.Contains(out, "readable by others") {
		t.Errorf("a private key readable by others: %q", out)
	}
	// The public key, given by mistake, is named as such, not as a key with loose permissions.
	if out := c.want(2, "seal", "--key", filepath.Join(keys, "clinic.pub"), "--checkpoints", t.TempDir()); !strings.Contains(out, "is not a private key keygen wrote") {
		t.Errorf("the public key as --key: %q", out)
	}
}

// TestSealVerifyNATS: with a NATS bucket as a second copy, deleting the database's checkpoints and the
// directory's copies is still detected.
func TestSealVerifyNATS(t *testing.T) {
	nc, err := nats.Connect("nats://127.0.0.1:4222", nats.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("no NATS server: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	bucket := fmt.Sprintf("auditrepo_test_%d", time.Now().UnixNano())
	t.Cleanup(func() { js.DeleteKeyValue(context.Background(), bucket) })
	// An operator's bucket, made with settings of its own, which sealing must keep.
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: bucket, History: 3, Description: "the operator's"})
	if err != nil {
		t.Fatal(err)
	}

	db, url := sealDB(t)
	keys, cps := t.TempDir(), t.TempDir()
	c := cli{t: t, vars: map[string]string{"DATABASE_URL": url}}
	c.want(0, "keygen", "--name", "clinic", "--out", keys)
	key, pub := filepath.Join(keys, "clinic.key"), filepath.Join(keys, "clinic.pub")
	flags := []string{"--checkpoints", cps, "--nats", "nats://127.0.0.1:4222", "--nats-bucket", bucket}
	c.want(0, append([]string{"seal", "--key", key}, flags...)...)
	insert(t, db, 2)
	c.want(0, append([]string{"seal", "--key", key}, flags...)...)
	c.want(0, append([]string{"verify", "--pub", pub}, flags...)...)
	if st, err := kv.Status(context.Background()); err != nil || st.History() != 3 {
		t.Errorf("the bucket's history after sealing: %v (%v), want the operator's 3", st, err)
	}

	mustExec(t, db, "ALTER TABLE auditrepo.seal_checkpoint DISABLE TRIGGER USER")
	mustExec(t, db, "DELETE FROM auditrepo.seal_checkpoint WHERE tree_size = 7")
	mustExec(t, db, "ALTER TABLE auditrepo.seal_leaf DISABLE TRIGGER USER")
	mustExec(t, db, "DELETE FROM auditrepo.seal_leaf WHERE leaf_index >= 5")
	if err := os.Remove(filepath.Join(cps, "7.checkpoint")); err != nil {
		t.Fatal(err)
	}
	c.want(0, "verify", "--pub", pub, "--checkpoints", cps) // the directory alone was rolled back too
	if out := c.want(1, append([]string{"verify", "--pub", pub}, flags...)...); !strings.Contains(out, "holds tree size 7, newer than the database's latest 5") {
		t.Fatalf("verify printed %q", out)
	}
	// Sealing on top of the rolled-back database is refused.
	c.want(1, append([]string{"seal", "--key", key}, flags...)...)
	// A bucket that does not exist is no empty copy: verify names it as a usage error, and seal does not make one
	// once the database has checkpoints (a mistyped name would otherwise pass for a copy that lost them).
	missing := bucket + "_missing"
	t.Cleanup(func() { js.DeleteKeyValue(context.Background(), missing) })
	for _, cmd := range [][]string{{"verify", "--pub", pub}, {"seal", "--key", key}} {
		if out := c.want(2, append(cmd, "--checkpoints", cps, "--nats", "nats://127.0.0.1:4222", "--nats-bucket", missing)...); !strings.Contains(out, "NATS bucket "+missing+" does not exist") {
			t.Errorf("%s with a missing bucket printed %q", cmd[0], out)
		}
	}
	if _, err := js.KeyValue(context.Background(), missing); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Errorf("the missing bucket was created: %v", err)
	}
}

func mustExec(t *testing.T, db *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// An error quoting what the database holds (a key name the sealer chose) reaches the terminal with its control
// and invisible characters escaped: an escape sequence or a bidi override there could write over the verdict.
func TestErrorsShowNoControls(t *testing.T) {
	got := visible("signed by \u009b2K\u009b1G\u202eOK+abc, not by the key given\n\tnext line")
	want := `signed by \u009b2K\u009b1G\u202eOK+abc, not by the key given` + "\n\tnext line"
	if got != want {
		t.Errorf("visible = %q, want %q", got, want)
	}
}
