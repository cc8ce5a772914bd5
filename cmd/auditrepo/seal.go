package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/seal"
)

func init() {
	commands["keygen"] = command{summary: "make an Ed25519 key pair for sealing the trail (NAME.key, NAME.pub)", run: keygenCmd}
	commands["seal"] = command{summary: "seal the final audit rows in a signed Merkle checkpoint", run: sealCmd}
	commands["verify"] = command{summary: "verify the trail against its signed checkpoints, or prove one patient's rows", run: verifyCmd}
}

// sealKeyEnv holds the private key itself when --key is not given, for schedulers that pass secrets as
// environment variables; previousKeyEnv likewise the previous key, when --previous-key is not given.
const (
	sealKeyEnv     = "AUDITREPO_SEAL_KEY"
	previousKeyEnv = "AUDITREPO_SEAL_PREVIOUS_KEY"
)

func keygenCmd(_ context.Context, e *env, args []string) error {
	fs := e.flags("keygen")
	name := fs.String("name", "", "the key's name, which is also the checkpoints' origin (e.g. clinic.example-audit)")
	out := fs.String("out", ".", "the directory to write NAME.key and NAME.pub to")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" || *name == "." || *name == ".." || strings.ContainsAny(*name, `/\`) {
		return usageError{"--name is required, and may not contain a slash or be . or .. (it names the files)"}
	}
	key, err := seal.NewKey(*name)
	if err != nil {
		return usageError{fmt.Sprintf("--name %q: %v", *name, err)}
	}
	skey, vkey := key.Private, key.Public
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := writeKeyPair(filepath.Join(*out, *name), skey, vkey); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s (private: keep it out of the database and backups) and %s\n",
		filepath.Join(*out, *name+".key"), filepath.Join(*out, *name+".pub"))
	fmt.Fprintln(e.stdout, vkey)
	return nil
}

// writeKeyPair writes base.key and base.pub, both or neither: with O_EXCL, so a key is never overwritten (which
// would orphan the checkpoints it signed), and a private key is never left without its public key, nor beside
// another key's.
func writeKeyPair(base, skey, vkey string) (err error) {
	files := []struct {
		path, text string
		mode       os.FileMode
	}{{base + ".key", skey, 0o600}, {base + ".pub", vkey, 0o644}}
	var created []string
	defer func() {
		if err != nil {
			for _, p := range created {
				os.Remove(p)
			}
		}
	}()
	ws := make([]*os.File, len(files))
	for i, f := range files {
		if ws[i], err = os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode); err != nil {
			for _, w := range ws[:i] {
				w.Close()
			}
			return err
		}
		created = append(created, f.path)
	}
	for i, f := range files {
		_, werr := fmt.Fprintln(ws[i], f.text)
		if cerr := ws[i].Close(); werr == nil {
			werr = cerr
		}
		if err == nil {
			err = werr
		}
	}
	return err
}

// sealFlags are the flags seal and verify share.
type sealFlags struct {
	db, checkpoints, nats, bucket string
	config                        auditschema.Config
}

// register adds the flags to fs, with the help of --checkpoints and --nats, which say what the command does with
// the copies: seal writes them, verify reads them.
func (f *sealFlags) register(fs *flag.FlagSet, checkpointsHelp, natsHelp string) {
	fs.StringVar(&f.db, "db", "", "the database URL (default $DATABASE_URL)")
	fs.StringVar(&f.checkpoints, "checkpoints", "", checkpointsHelp)
	fs.StringVar(&f.nats, "nats", "", natsHelp)
	fs.StringVar(&f.bucket, "nats-bucket", "auditrepo_checkpoints", "the NATS bucket (with --nats)")
	registerNames(fs, &f.config, schemaName, tableName, auditName, writerName)
}

// check validates the flags fs parsed into f.
func (f *sealFlags) check(fs *flag.FlagSet) error {
	if f.checkpoints == "" {
		return usageError{"--checkpoints DIR is required: the copy of the checkpoints outside the database"}
	}
	bucket := false
	fs.Visit(func(fl *flag.Flag) { bucket = bucket || fl.Name == "nats-bucket" })
	if bucket && f.nats == "" {
		return usageError{"--nats-bucket goes with --nats URL: without it no NATS copy is written or checked"}
	}
	return nil
}

// open connects to the database, checks the audit schema's revision, and connects to the witnesses; done closes
// them.
func (f *sealFlags) open(ctx context.Context, e *env) (conn *pgx.Conn, opts seal.Options, done func(), err error) {
	url, err := e.dbURL(f.db)
	if err != nil {
		return nil, opts, nil, err
	}
	opts = seal.Options{Config: f.config, Witnesses: []seal.Witness{seal.Dir(f.checkpoints)}}
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		return nil, opts, nil, fmt.Errorf("connecting to the database: %w", err)
	}
	if err := checkRevision(ctx, conn, f.config, nil); err != nil {
		conn.Close(ctx)
		return nil, opts, nil, err
	}
	closeNATS := func() {}
	if f.nats != "" {
		w, c, err := seal.DialNATS(ctx, f.nats, f.bucket)
		if err != nil {
			conn.Close(ctx)
			return nil, opts, nil, err
		}
		opts.Witnesses, closeNATS = append(opts.Witnesses, w), c
	}
	return conn, opts, func() { conn.Close(ctx); closeNATS() }, nil
}

func sealCmd(ctx context.Context, e *env, args []string) error {
	fs := e.flags("seal")
	var f sealFlags
	f.register(fs, "the directory holding a copy of every checkpoint (required; it must exist, except for the first seal, which creates it)",
		"also keep the checkpoints in a NATS JetStream key-value bucket at this URL (it must exist, except for the first seal, which creates it)")
	keyFile := fs.String("key", "", "the private key file keygen wrote (default: the key itself in $"+sealKeyEnv+")")
	previousFile := fs.String("previous-key", "", "to rotate the seal key: the private key file of the key the trail is sealed with, --key being the new one "+
		"(made by keygen with the same --name); the next checkpoint is signed by both, and from then on --key alone seals "+
		"(default: the key itself in $"+previousKeyEnv+", if set)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(fs); err != nil {
		return err
	}
	signer, err := privateKey(e, "--key", *keyFile, sealKeyEnv)
	if err != nil {
		return err
	}
	if signer == nil {
		return usageError{"no key: pass --key FILE or set $" + sealKeyEnv}
	}
	previous, err := privateKey(e, "--previous-key", *previousFile, previousKeyEnv)
	if err != nil {
		return err
	}
	conn, opts, done, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	opts.Previous = previous
	cp, err := seal.Seal(ctx, conn, signer, opts)
	if errors.Is(err, seal.ErrOtherKey) || errors.Is(err, seal.ErrPreviousKey) || errors.Is(err, seal.ErrWitnessMissing) {
		return usageError{err.Error()}
	}
	if errors.Is(err, seal.ErrBadCheckpoint) {
		return failedError{err.Error()}
	}
	if err != nil {
		return err
	}
	if cp == nil {
		msg, err := nothingToSeal(ctx, conn, f.config)
		if err != nil {
			return err
		}
		if previous != nil {
			msg += "; " + pendingHandover(ctx, opts, signer)
		}
		fmt.Fprintln(e.stdout, msg)
		return nil
	}
	// The leaves are in (transaction_id, id) order, so the first and last are not the smallest and largest ids.
	fmt.Fprintf(e.stdout, "sealed %d rows, first id %d, last id %d (in transaction order): tree size %d, watermark %d\n",
		cp.Size-cp.PrevSize, cp.First.ID, cp.Last.ID, cp.Size, cp.Watermark)
	switch {
	case previous != nil && cp.Next != "":
		fmt.Fprintf(e.stdout, "handed the seal key over from %s to %s in this checkpoint (signed by both): from now on seal with the new key alone, "+
			"and verify with both public keys (--pub OLD.pub --pub NEW.pub)\n", signerID(previous), signerID(signer))
	case previous != nil:
		fmt.Fprintf(e.stderr, "--previous-key was not needed: the trail is sealed with %s already\n", signerID(signer))
	}
	return nil
}

// privateKey reads the private key in file (flag names it), or, without one, the key itself in $envName; nil
// if neither is given.
func privateKey(e *env, flag, file, envName string) (note.Signer, error) {
	skey := e.getenv(envName)
	if file != "" {
		info, err := os.Stat(file)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		skey = string(b)
		// What the file is comes first: a public key (NAME.pub, world-readable by design) is no key to seal with.
		if !strings.HasPrefix(strings.TrimSpace(skey), "PRIVATE+KEY+") {
			return nil, usageError{fmt.Sprintf("%s %s is not a private key keygen wrote (NAME.key; NAME.pub is the public key, for verify)", flag, file)}
		}
		if info.Mode().Perm()&0o077 != 0 {
			return nil, usageError{fmt.Sprintf("%s %s is readable by others (mode %v): chmod 600 it", flag, file, info.Mode().Perm())}
		}
	}
	if skey == "" {
		return nil, nil
	}
	s, err := seal.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		src := flag + " " + file
		if file == "" {
			src = "$" + envName
		}
		return nil, usageError{fmt.Sprintf("%s is not a private key keygen wrote: %v", src, err)}
	}
	return s, nil
}

func signerID(s note.Signer) string { return fmt.Sprintf("%s+%08x", s.Name(), s.KeyHash()) }

// pendingHandover says, after a seal with a previous key that sealed nothing, whether the handover is still to
// come: the witness directory holds the database's latest checkpoint once Seal checked it.
func pendingHandover(ctx context.Context, opts seal.Options, s note.Signer) string {
	latest, err := opts.Witnesses[0].Latest(ctx)
	if err == nil && slices.Contains((&seal.Checkpoint{Note: latest}).SignedWith(), signerID(s)) {
		return fmt.Sprintf("the trail is sealed with %s already: --previous-key is not needed", signerID(s))
	}
	return "no key handover yet: the checkpoint that hands over must cover new rows, so seal again with --previous-key once rows are final"
}

func verifyCmd(ctx context.Context, e *env, args []string) error {
	fs := e.flags("verify")
	var f sealFlags
	f.register(fs, "the directory seal keeps its copy of every checkpoint in, to check against the database's (required; a missing directory is refused, never read as an empty copy)",
		"also check the checkpoints' copy in the NATS JetStream key-value bucket at this URL, which seal keeps (a missing bucket is refused, as a missing directory)")
	var pubFiles repeated
	fs.Var(&pubFiles, "pub", "the public key `FILE` keygen wrote (required); after a key rotation, repeat it for every key that sealed the trail (--pub OLD.pub --pub NEW.pub)")
	patient := idFlag(fs, "patient", "prove only the rows of the patient with this `ID`, in decimal (patient_id or prior_patient_id), are in the latest checkpoint")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(fs); err != nil {
		return err
	}
	if len(pubFiles) == 0 {
		return usageError{"--pub FILE is required"}
	}
	var keys []note.Verifier
	for _, file := range pubFiles {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		v, err := note.NewVerifier(strings.TrimSpace(string(b)))
		if err != nil {
			return usageError{fmt.Sprintf("%s is not a public key keygen wrote: %v", file, err)}
		}
		if len(keys) > 0 && v.Name() != keys[0].Name() {
			return usageError{fmt.Sprintf("--pub %s is a key named %s, --pub %s one named %s: a trail's keys share its name (give only the keys that sealed this trail)",
				pubFiles[0], keys[0].Name(), file, v.Name())}
		}
		keys = append(keys, v)
	}
	conn, opts, done, err := f.open(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	if patient.set {
		rep, err := seal.VerifyPatient(ctx, conn, keys, opts, patient.v)
		if err != nil {
			return verifyFailed(err)
		}
		for _, p := range rep.Proofs {
			fmt.Fprintf(e.stdout, "row %d: leaf %d, inclusion proof of %d hashes verified\n", p.Row.ID, p.Leaf, len(p.Proof))
		}
		size := uint64(0)
		if rep.Checkpoint != nil {
			size = rep.Checkpoint.Size
		}
		fmt.Fprintf(e.stdout, "patient %d: %d inclusion proofs verified against the checkpoint of tree size %d; %d rows not sealed yet\n",
			patient.v, len(rep.Proofs), size, rep.Unsealed)
		return nil
	}
	rep, err := seal.Verify(ctx, conn, keys, opts)
	if err != nil {
		return verifyFailed(err)
	}
	for _, h := range rep.Handovers {
		fmt.Fprintln(e.stdout, h)
	}
	for _, d := range rep.Dropped {
		fmt.Fprintln(e.stdout, d)
	}
	size := uint64(0)
	if rep.Latest != nil {
		size = rep.Latest.Size
	}
	fmt.Fprintf(e.stdout, "verified: %d rows match %d checkpoints (tree size %d); %d rows not sealed yet\n",
		rep.Rows, rep.Checkpoints, size, rep.Unsealed)
	return nil
}

// repeated is a flag that may be given more than once, each value kept in order.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ", ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// verifyFailed makes a tampering or checkpoint finding exit 1; a missing --checkpoints directory is a usage
// error, and any other error (connection, permission) exits 2 too.
func verifyFailed(err error) error {
	switch {
	case errors.Is(err, seal.ErrTampered) || errors.Is(err, seal.ErrBadCheckpoint):
		return failedError{err.Error()}
	case errors.Is(err, seal.ErrWitnessMissing):
		return usageError{err.Error()}
	}
	return err
}

// nothingToSeal says why a seal sealed nothing: no new row, or rows that are not final yet. A row is final once
// every transaction that could commit before it has ended: the watermark is the snapshot xmin, which the oldest
// transaction still running anywhere in the cluster (having written; any database) holds back. It names that
// transaction as pg_stat_activity's backend_xid (readable by any role) and pg_prepared_xacts show it.
func nothingToSeal(ctx context.Context, conn *pgx.Conn, c auditschema.Config) (string, error) {
	var waiting int64
	// A scan of the audit table, as each seal's is; only when a transaction is running can a row wait.
	err := conn.QueryRow(ctx, `SELECT CASE WHEN pg_snapshot_xmin(s) = pg_snapshot_xmax(s) THEN 0
		ELSE (SELECT count(*) FROM `+c.QualifiedTable()+` WHERE transaction_id >= pg_snapshot_xmin(s)) END
		FROM pg_current_snapshot() s`).Scan(&waiting)
	if err != nil {
		return "", fmt.Errorf("counting the rows not final yet: %w", err)
	}
	if waiting == 0 {
		return "nothing to seal: no row became final since the last checkpoint", nil
	}
	msg := fmt.Sprintf("nothing to seal: %d rows wait behind an open transaction (anywhere in the cluster: a row is final, and sealed, only once every transaction that began writing before it ended)", waiting)
	var kind, id, db string
	var since *time.Duration
	err = conn.QueryRow(ctx, `SELECT kind, id, coalesce(db, ''), open FROM (
			SELECT 'pid' AS kind, pid::text AS id, datname AS db, now() - xact_start AS open, age(backend_xid) AS age
			FROM pg_catalog.pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
			UNION ALL
			SELECT 'prepared transaction', gid, database, now() - prepared, age(transaction) FROM pg_catalog.pg_prepared_xacts
		) t ORDER BY age DESC LIMIT 1`).Scan(&kind, &id, &db, &since)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return msg + "; it has just ended (none shows in pg_stat_activity or pg_prepared_xacts now): seal again", nil
	case err != nil:
		return msg, nil // the count is the point; the holder's name is a courtesy
	}
	msg += fmt.Sprintf("; the oldest is %s %s", kind, id)
	if db != "" {
		msg += " in database " + db
	}
	if since != nil {
		msg += fmt.Sprintf(", open for %s", since.Round(time.Second))
	}
	return msg, nil
}
