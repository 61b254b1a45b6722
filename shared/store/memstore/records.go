package memstore

import (
	"slices"
	"strconv"
	"strings"

	"github.com/verifyfn/verifyfn/shared/store"
)

// MemRecords keeps durable records in memory: the default Records of New. It
// is not safe for concurrent use on its own; the Store serialises its calls.
type MemRecords struct {
	colls map[string]map[string]*item
	seq   int64
}

type item struct {
	value []byte
	seq   int64
}

// NewMemRecords returns an empty in-memory records backend.
func NewMemRecords() *MemRecords { return &MemRecords{colls: map[string]map[string]*item{}} }

func (m *MemRecords) item(coll, key string) *item { return m.colls[coll][key] }

// Get implements Records.
func (m *MemRecords) Get(coll, key string) ([]byte, bool, error) {
	it := m.item(coll, key)
	if it == nil {
		return nil, false, nil
	}
	return slices.Clone(it.value), true, nil
}

// List implements Records.
func (m *MemRecords) List(coll string, offset, limit int) ([]store.Record, int, error) {
	c := m.colls[coll]
	all := make([]store.Record, 0, len(c))
	for k, it := range c {
		all = append(all, store.Record{Key: k, Value: it.value, Seq: it.seq})
	}
	slices.SortFunc(all, func(a, b store.Record) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	total := len(all)
	if offset >= total || limit <= 0 {
		return []store.Record{}, total, nil
	}
	end := min(total, offset+limit)
	out := make([]store.Record, 0, end-offset)
	for _, r := range all[offset:end] {
		r.Value = slices.Clone(r.Value)
		out = append(out, r)
	}
	return out, total, nil
}

// Precheck implements Records.
func (m *MemRecords) Precheck(ops []store.Op) (int, error) {
	return Precheck(ops, func(coll, key string) ([]byte, bool, error) {
		it := m.item(coll, key)
		if it == nil {
			return nil, false, nil
		}
		return it.value, true, nil
	})
}

// Apply implements Records.
func (m *MemRecords) Apply(ops []store.Op) (int, error) {
	if i, _ := m.Precheck(ops); i >= 0 {
		return i, nil
	}
	for _, op := range ops {
		switch op.Kind {
		case store.Insert, store.Put:
			m.put(op.Coll, op.Key, slices.Clone(op.Value))
		case store.Incr:
			var n int64
			if it := m.item(op.Coll, op.Key); it != nil {
				n = ParseCounter(it.value)
			}
			m.put(op.Coll, op.Key, strconv.AppendInt(nil, n+1, 10))
		case store.Remove:
			if c := m.colls[op.Coll]; c != nil {
				delete(c, op.Key)
				if len(c) == 0 {
					delete(m.colls, op.Coll)
				}
			}
		}
	}
	return -1, nil
}

func (m *MemRecords) put(coll, key string, value []byte) {
	c := m.colls[coll]
	if c == nil {
		c = map[string]*item{}
		m.colls[coll] = c
	}
	if it := c[key]; it != nil {
		it.value = value
		return
	}
	m.seq++
	c[key] = &item{value: value, seq: m.seq}
}

// Reset implements Records.
func (m *MemRecords) Reset(prefix string) error {
	for name := range m.colls {
		if strings.HasPrefix(name, prefix) {
			delete(m.colls, name)
		}
	}
	return nil
}

// Close implements Records; it does nothing.
func (m *MemRecords) Close() error { return nil }

// Precheck evaluates the preconditions of ops against records read through
// get, each op against the records as they are, and returns the index of the
// first op whose precondition fails, or -1. Records backends share it so that
// every store judges preconditions alike.
func Precheck(ops []store.Op, get func(coll, key string) ([]byte, bool, error)) (int, error) {
	for i, op := range ops {
		v, exists, err := get(op.Coll, op.Key)
		if err != nil {
			return 0, err
		}
		switch op.Kind {
		case store.Insert, store.MustNotExist:
			if exists {
				return i, nil
			}
		case store.Remove, store.MustExist:
			if !exists {
				return i, nil
			}
		case store.Incr:
			if op.Max > 0 && exists && ParseCounter(v) >= op.Max {
				return i, nil
			}
		}
	}
	return -1, nil
}
