// Package filestore is the embedded store with durable records in a file: the
// store of a local verifyfn (VERIFYFN_STORE=file:PATH). It is the memstore
// store with a bbolt-backed records backend, so verified contacts, bound
// numbers, registered accounts and every other durable record survive a
// restart, while ephemeral state (codes, cooldowns, windows, rate buckets,
// nonces) stays in memory and is lost with the process, which at worst
// invalidates codes in flight.
//
// Every record change (an Apply, or the ops of a passing Check) is one bbolt
// transaction, committed with fsync before the call returns; a check consumes
// its code only after that commit succeeded. One process holds the file at a
// time (bbolt locks it); a second Open waits a second and then fails.
//
// File layout (format 1): bucket "colls" holds one bucket per collection with
// two buckets: "k" maps a record key to its sequence number (8 bytes, big
// endian) followed by the value; "s" maps the sequence number to the key, so
// a cursor over "s" lists in insertion order. The sequence is the sequence of
// bucket "colls", shared by all collections.
package filestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
)

// Format is the version of the file layout this package writes.
const Format = "1"

var (
	bucketMeta  = []byte("meta")
	bucketColls = []byte("colls")
	bucketKeys  = []byte("k")
	bucketOrder = []byte("s")
	keyFormat   = []byte("format")
)

// Open opens (creating if needed) the file at path and returns an embedded
// store whose durable records live in it. Close the store to release the file.
func Open(path string) (*memstore.Store, error) {
	r, err := OpenRecords(path)
	if err != nil {
		return nil, err
	}
	return memstore.NewWithRecords(r), nil
}

// Records is the bbolt records backend; see the package comment for the
// layout.
type Records struct {
	db *bolt.DB
}

var _ memstore.Records = (*Records)(nil)

// OpenRecords opens the records file at path.
func OpenRecords(path string) (*Records, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("filestore: %s is locked by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch f := meta.Get(keyFormat); {
		case f == nil:
			if err := meta.Put(keyFormat, []byte(Format)); err != nil {
				return err
			}
		case string(f) != Format:
			return fmt.Errorf("file format %q, want %q", f, Format)
		}
		_, err = tx.CreateBucketIfNotExists(bucketColls)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("filestore: %s: %w", path, err)
	}
	return &Records{db: db}, nil
}

func unavailable(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: filestore: %w", store.ErrUnavailable, err)
}

// get reads Coll/Key in tx; the value is only valid during tx.
func get(tx *bolt.Tx, coll, key string) (seq uint64, value []byte, ok bool) {
	c := tx.Bucket(bucketColls).Bucket([]byte(coll))
	if c == nil {
		return 0, nil, false
	}
	v := c.Bucket(bucketKeys).Get([]byte(key))
	if len(v) < 8 {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(v), v[8:], true
}

// Get implements memstore.Records.
func (r *Records) Get(coll, key string) ([]byte, bool, error) {
	var out []byte
	var found bool
	err := r.db.View(func(tx *bolt.Tx) error {
		_, v, ok := get(tx, coll, key)
		out, found = slices.Clone(v), ok
		return nil
	})
	if err != nil {
		return nil, false, unavailable(err)
	}
	if found && out == nil {
		out = []byte{}
	}
	return out, found, nil
}

// List implements memstore.Records.
func (r *Records) List(coll string, offset, limit int) ([]store.Record, int, error) {
	out := []store.Record{}
	total := 0
	err := r.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketColls).Bucket([]byte(coll))
		if c == nil {
			return nil
		}
		keys := c.Bucket(bucketKeys)
		cur := c.Bucket(bucketOrder).Cursor()
		for sk, key := cur.First(); sk != nil; sk, key = cur.Next() {
			if total >= offset && len(out) < limit {
				v := keys.Get(key)
				if len(v) < 8 {
					return fmt.Errorf("collection %q: key %q is in the order but not stored", coll, key)
				}
				out = append(out, store.Record{Key: string(key), Value: slices.Clone(v[8:]), Seq: int64(binary.BigEndian.Uint64(sk))})
			}
			total++
		}
		return nil
	})
	if err != nil {
		return nil, 0, unavailable(err)
	}
	return out, total, nil
}

// Precheck implements memstore.Records.
func (r *Records) Precheck(ops []store.Op) (int, error) {
	i := -1
	err := r.db.View(func(tx *bolt.Tx) error {
		var err error
		i, err = precheck(tx, ops)
		return err
	})
	if err != nil {
		return 0, unavailable(err)
	}
	return i, nil
}

func precheck(tx *bolt.Tx, ops []store.Op) (int, error) {
	return memstore.Precheck(ops, func(coll, key string) ([]byte, bool, error) {
		_, v, ok := get(tx, coll, key)
		return v, ok, nil
	})
}

// errConflict rolls back an Apply transaction whose precondition failed.
var errConflict = errors.New("precondition failed")

// Apply implements memstore.Records: one read-write transaction that checks
// every precondition and applies every op, committed (and synced) before it
// returns.
func (r *Records) Apply(ops []store.Op) (int, error) {
	if len(ops) == 0 {
		return -1, nil
	}
	conflict := -1
	err := r.db.Update(func(tx *bolt.Tx) error {
		i, err := precheck(tx, ops)
		if err != nil {
			return err
		}
		if i >= 0 {
			conflict = i
			return errConflict
		}
		for _, op := range ops {
			if err := apply(tx, op); err != nil {
				return fmt.Errorf("%s %q: %w", op.Coll, op.Key, err)
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errConflict):
		return conflict, nil
	case err != nil:
		return 0, unavailable(err)
	}
	return -1, nil
}

func apply(tx *bolt.Tx, op store.Op) error {
	switch op.Kind {
	case store.Insert, store.Put:
		return put(tx, op.Coll, op.Key, op.Value)
	case store.Incr:
		_, v, _ := get(tx, op.Coll, op.Key)
		return put(tx, op.Coll, op.Key, strconv.AppendInt(nil, memstore.ParseCounter(v)+1, 10))
	case store.Remove:
		return remove(tx, op.Coll, op.Key)
	}
	return nil
}

func put(tx *bolt.Tx, coll, key string, value []byte) error {
	colls := tx.Bucket(bucketColls)
	c, err := colls.CreateBucketIfNotExists([]byte(coll))
	if err != nil {
		return err
	}
	keys, err := c.CreateBucketIfNotExists(bucketKeys)
	if err != nil {
		return err
	}
	order, err := c.CreateBucketIfNotExists(bucketOrder)
	if err != nil {
		return err
	}
	seq, _, exists := get(tx, coll, key)
	if !exists {
		if seq, err = colls.NextSequence(); err != nil {
			return err
		}
		if err := order.Put(binary.BigEndian.AppendUint64(nil, seq), []byte(key)); err != nil {
			return err
		}
	}
	return keys.Put([]byte(key), append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(value)), seq), value...))
}

func remove(tx *bolt.Tx, coll, key string) error {
	seq, _, exists := get(tx, coll, key)
	if !exists {
		return nil
	}
	colls := tx.Bucket(bucketColls)
	c := colls.Bucket([]byte(coll))
	if err := c.Bucket(bucketKeys).Delete([]byte(key)); err != nil {
		return err
	}
	if err := c.Bucket(bucketOrder).Delete(binary.BigEndian.AppendUint64(nil, seq)); err != nil {
		return err
	}
	if k, _ := c.Bucket(bucketKeys).Cursor().First(); k == nil {
		return colls.DeleteBucket([]byte(coll))
	}
	return nil
}

// Reset implements memstore.Records: one transaction that deletes every
// collection whose name starts with prefix, committed before it returns.
func (r *Records) Reset(prefix string) error {
	err := r.db.Update(func(tx *bolt.Tx) error {
		colls := tx.Bucket(bucketColls)
		var names [][]byte
		err := colls.ForEach(func(k, v []byte) error {
			if v == nil && strings.HasPrefix(string(k), prefix) { // a nested bucket
				names = append(names, slices.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := colls.DeleteBucket(n); err != nil {
				return err
			}
		}
		return nil
	})
	return unavailable(err)
}

// Ping reports whether the file answers: a read-only transaction, which
// fails once the file is closed.
func (r *Records) Ping() error {
	return unavailable(r.db.View(func(*bolt.Tx) error { return nil }))
}

// Close implements memstore.Records.
func (r *Records) Close() error { return r.db.Close() }
