package seal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Witness keeps copies of the signed checkpoints outside the database, so that deleting, replacing or rolling
// back the database's checkpoints is detected. A copy is never replaced.
type Witness interface {
	// Publish stores c's note under its tree size. An equal copy already there is fine; a different one is an
	// error matching ErrBadCheckpoint.
	Publish(ctx context.Context, c *Checkpoint) error
	// Latest returns the note of the largest tree size stored, nil if none; an error matching ErrWitnessMissing
	// if the witness itself is missing (a deleted or mistyped directory is not an empty copy).
	Latest(ctx context.Context) ([]byte, error)
	// All returns every copy stored, in no particular order, each with the tree size it is stored under; an error
	// matching ErrWitnessMissing as Latest's.
	All(ctx context.Context) ([]Copy, error)
	String() string
}

// Copy is a checkpoint's note as a witness stores it, under a tree size.
type Copy struct {
	Size uint64
	Note []byte
}

// Dir is a directory holding one file per checkpoint, <tree size>.checkpoint. Publish creates it if needed;
// Latest refuses a directory that does not exist (ErrWitnessMissing).
type Dir string

func (d Dir) String() string { return string(d) }

func (d Dir) path(size uint64) string {
	return filepath.Join(string(d), fmt.Sprintf("%d.checkpoint", size))
}

// Publish writes a temporary file and links it into place: the link fails if the name exists, so a copy is
// never overwritten, and a crash never leaves a partial one.
func (d Dir) Publish(_ context.Context, c *Checkpoint) error {
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(string(d), ".checkpoint-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(c.Note); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	err = os.Link(tmp.Name(), d.path(c.Size))
	if errors.Is(err, os.ErrExist) {
		return sameCopy(d, c, func() ([]byte, error) { return os.ReadFile(d.path(c.Size)) })
	}
	return err
}

func (d Dir) Latest(context.Context) ([]byte, error) {
	ents, err := os.ReadDir(string(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: checkpoint directory %s does not exist", ErrWitnessMissing, d)
	}
	if err != nil {
		return nil, err
	}
	best, found := uint64(0), false
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), ".checkpoint")
		size, err := strconv.ParseUint(n, 10, 64)
		if ok && err == nil && (!found || size > best) {
			best, found = size, true
		}
	}
	if !found {
		return nil, nil
	}
	return os.ReadFile(d.path(best))
}

// All reads every <tree size>.checkpoint file (by its name as it is: 07.checkpoint is a copy of tree size 7 too,
// which Latest would not read).
func (d Dir) All(context.Context) ([]Copy, error) {
	ents, err := os.ReadDir(string(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: checkpoint directory %s does not exist", ErrWitnessMissing, d)
	}
	if err != nil {
		return nil, err
	}
	var cs []Copy
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), ".checkpoint")
		size, err := strconv.ParseUint(n, 10, 64)
		if !ok || err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(string(d), e.Name()))
		if err != nil {
			return nil, err
		}
		cs = append(cs, Copy{Size: size, Note: b})
	}
	return cs, nil
}

// NATS is a JetStream key-value bucket holding each checkpoint under the key checkpoint.<tree size>. DialNATS
// opens one.
type NATS struct {
	kv jetstream.KeyValue // nil while the bucket does not exist (DialNATS found none): Publish creates it
	// js and bucket create the bucket on the first Publish.
	js     jetstream.JetStream
	bucket string
}

// DialNATS connects to the NATS server at url and opens the bucket as it is (an operator's bucket keeps its
// settings: replicas, history, limits). A bucket that does not exist is no empty copy: Latest refuses it
// (ErrWitnessMissing), as Dir's a missing directory, and Publish creates it, which Seal does for the first
// checkpoint only. close releases the connection.
func DialNATS(ctx context.Context, url, bucket string) (w *NATS, close func(), err error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: connecting to NATS: %w", err)
	}
	js, err := jetstream.New(nc)
	if err == nil {
		var kv jetstream.KeyValue
		kv, err = js.KeyValue(ctx, bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = nil, nil
		}
		if err == nil {
			return &NATS{kv: kv, js: js, bucket: bucket}, nc.Close, nil
		}
	}
	nc.Close()
	return nil, nil, fmt.Errorf("seal: opening NATS bucket %s: %w", bucket, err)
}

func (n *NATS) String() string {
	if n.kv == nil {
		return "NATS bucket " + n.bucket
	}
	return "NATS bucket " + n.kv.Bucket()
}

func natsKey(size uint64) string { return fmt.Sprintf("checkpoint.%d", size) }

func (n *NATS) Publish(ctx context.Context, c *Checkpoint) error {
	if n.kv == nil {
		kv, err := n.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: n.bucket, Description: "auditrepo signed checkpoints"})
		if err != nil {
			return fmt.Errorf("seal: creating %s: %w", n, err)
		}
		n.kv = kv
	}
	_, err := n.kv.Create(ctx, natsKey(c.Size), c.Note)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return sameCopy(n, c, func() ([]byte, error) {
			e, err := n.kv.Get(ctx, natsKey(c.Size))
			if err != nil {
				return nil, err
			}
			return e.Value(), nil
		})
	}
	return err
}

func (n *NATS) Latest(ctx context.Context) ([]byte, error) {
	if n.kv == nil {
		return nil, fmt.Errorf("%w: %s does not exist", ErrWitnessMissing, n)
	}
	keys, err := n.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	best, found := uint64(0), false
	for k := range keys.Keys() {
		size, err := strconv.ParseUint(strings.TrimPrefix(k, "checkpoint."), 10, 64)
		if err == nil && (!found || size > best) {
			best, found = size, true
		}
	}
	if !found {
		return nil, nil
	}
	e, err := n.kv.Get(ctx, natsKey(best))
	if err != nil {
		return nil, err
	}
	return e.Value(), nil
}

// All reads every checkpoint.<tree size> key (as it is, like Dir's All).
func (n *NATS) All(ctx context.Context) ([]Copy, error) {
	if n.kv == nil {
		return nil, fmt.Errorf("%w: %s does not exist", ErrWitnessMissing, n)
	}
	keys, err := n.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for k := range keys.Keys() {
		names = append(names, k)
	}
	var cs []Copy
	for _, k := range names {
		size, err := strconv.ParseUint(strings.TrimPrefix(k, "checkpoint."), 10, 64)
		if err != nil {
			continue
		}
		e, err := n.kv.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		cs = append(cs, Copy{Size: size, Note: e.Value()})
	}
	return cs, nil
}

// sameCopy accepts an existing copy equal to c's note.
func sameCopy(w Witness, c *Checkpoint, read func() ([]byte, error)) error {
	old, err := read()
	if err != nil {
		return err
	}
	if !bytes.Equal(old, c.Note) {
		return badCheckpoint("%s holds a different checkpoint of tree size %d", w, c.Size)
	}
	return nil
}
