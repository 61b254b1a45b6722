package redisstore

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verifyfn/verifyfn/internal/redistest"
	"github.com/verifyfn/verifyfn/shared/store"
)

// gate is a hook that holds the first pipeline until released and records
// the size of every pipeline.
type gate struct {
	once    sync.Once
	held    chan struct{} // closed when the first pipeline is held
	release chan struct{}
	mu      sync.Mutex
	sizes   []int
}

func (g *gate) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (g *gate) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (g *gate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		g.mu.Lock()
		g.sizes = append(g.sizes, len(cmds))
		g.mu.Unlock()
		g.once.Do(func() {
			close(g.held)
			<-g.release
		})
		return next(ctx, cmds)
	}
}

// gatedStore is a store on a test-owned Redis whose batcher has one worker
// and whose client holds its first pipeline at g.
func gatedStore(t *testing.T) (*Store, *gate) {
	srv := redistest.Start(t)
	c, err := NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{held: make(chan struct{}), release: make(chan struct{})}
	c.AddHook(g)
	st := &Store{c: c, batch: newBatcher(c, 1)}
	t.Cleanup(func() { st.Close() })
	return st, g
}

// Operations that arrive while a pipeline is in flight share the next one:
// one worker, its first pipeline held, ten calls waiting, then exactly two
// pipelines of 1 and 10 calls, each call with its own right answer.
func TestBatchSharesPipelines(t *testing.T) {
	st, g := gatedStore(t)
	ctx := context.Background()
	if _, err := st.c.ScriptLoad(ctx, allowScript.src).Result(); err != nil {
		t.Fatal(err)
	}
	allow := func(key string, limit int) (bool, error) {
		return st.Allow(ctx, store.Rate{Key: key, Limit: limit, Per: time.Hour}, time.Time{})
	}
	first := make(chan error, 1)
	go func() {
		ok, err := allow("{b}:first", 1)
		if err == nil && !ok {
			err = errMsg("the first call was refused")
		}
		first <- err
	}()
	<-g.held
	const n = 10
	results := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Even calls on a fresh key (allowed), odd on the first
			// call's key, spent by it (refused).
			key := "{b}:first"
			if i%2 == 0 {
				key = "{b}:k" + string(rune('a'+i))
			}
			results[i], errs[i] = allow(key, 1)
		})
	}
	for len(st.batch.reqs) < n { // every call waits for the worker
		time.Sleep(time.Millisecond)
	}
	close(g.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i] != (i%2 == 0) {
			t.Errorf("call %d: %v, %v; want allowed %v", i, results[i], errs[i], i%2 == 0)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.sizes) != 2 || g.sizes[0] != 1 || g.sizes[1] != n {
		t.Fatalf("pipelines of %v calls; want [1 %d]", g.sizes, n)
	}
}

type errMsg string

func (e errMsg) Error() string { return string(e) }

// A caller whose context ends while its call waits gets the context's
// error at once, and the batcher serves the next call.
func TestBatchCallerGivesUp(t *testing.T) {
	st, g := gatedStore(t)
	go st.Allow(context.Background(), store.Rate{Key: "{b}:held", Limit: 1, Per: time.Hour}, time.Time{})
	<-g.held
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := st.Allow(ctx, store.Rate{Key: "{b}:gives-up", Limit: 1, Per: time.Hour}, time.Time{})
		done <- err
	}()
	for len(st.batch.reqs) < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled call succeeded")
	}
	close(g.release)
	if ok, err := st.Allow(context.Background(), store.Rate{Key: "{b}:next", Limit: 1, Per: time.Hour}, time.Time{}); err != nil || !ok {
		t.Fatalf("the next call: %v, %v", ok, err)
	}
}
