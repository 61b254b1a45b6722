// Package storeopen opens the store named by VERIFYFN_STORE:
//
//	memory                                   the embedded store, all in memory (tests)
//	file:PATH                                the embedded store, durable records in PATH (bbolt)
//	redis://[user:pass@]host:port[/db]       Redis
//	rediss://...                             Redis over TLS
//	redis+cluster://host1:port,host2:port    Redis Cluster (rediss+cluster:// over TLS)
//
// Validate checks a spec without touching a file or the network, so the
// configuration can be refused at start; Open opens it (Redis lazily: the
// first request connects).
package storeopen

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/filestore"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
	"github.com/verifyfn/verifyfn/shared/store/redisstore"
)

// Store is an opened store; Close releases it.
type Store interface {
	store.Store
	Close() error
}

// Kinds of store.
const (
	Memory = "memory"
	File   = "file"
	Redis  = "redis"
)

// Spec is a parsed store specification.
type Spec struct {
	Kind string // Memory, File or Redis
	Path string // File: the file
	URL  string // Redis: the URL
}

// Parse validates spec ("" means memory).
func Parse(spec string) (Spec, error) {
	switch {
	case spec == "" || spec == Memory:
		return Spec{Kind: Memory}, nil
	case strings.HasPrefix(spec, "file:"):
		path := strings.TrimPrefix(spec, "file:")
		if rest, ok := strings.CutPrefix(path, "//"); ok {
			if !strings.HasPrefix(rest, "/") {
				return Spec{}, errors.New("a file:// URL needs an absolute path (file:///var/lib/verifyfn.db), or use file:PATH")
			}
			path = rest
		}
		if path == "" {
			return Spec{}, errors.New("file: needs a path (file:./verifyfn.db)")
		}
		return Spec{Kind: File, Path: path}, nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"),
		strings.HasPrefix(spec, "redis+cluster://"), strings.HasPrefix(spec, "rediss+cluster://"):
		if err := redisstore.Validate(spec); err != nil {
			return Spec{}, err
		}
		return Spec{Kind: Redis, URL: spec}, nil
	}
	return Spec{}, errors.New(`want memory, file:PATH, redis://, rediss:// or redis+cluster://host:port,...`)
}

// Validate reports whether spec names a store Open can open.
func Validate(spec string) error {
	_, err := Parse(spec)
	return err
}

// Open opens the store named by spec.
func Open(spec string) (Store, error) {
	s, err := Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("VERIFYFN_STORE=%q: %w", Redact(spec), err)
	}
	switch s.Kind {
	case File:
		return filestore.Open(s.Path)
	case Redis:
		return redisstore.Open(s.URL)
	}
	return memstore.New(), nil
}

// Redact returns spec without any password, for logs and messages.
func Redact(spec string) string { return redisstore.Redact(spec) }

// SetLogger sends the Redis client's own log lines to l (process-wide).
func SetLogger(l *slog.Logger) { redisstore.SetLogger(l) }
