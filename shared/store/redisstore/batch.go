package redisstore

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// batcher sends the scripts of concurrent operations in pipelines: each of
// its workers waits for a call, takes every call already waiting with it
// (up to maxBatch) and sends them in one write, then reads the replies in
// order. Under load that is one system call each way, on the client and on
// the server, for several operations instead of one each; a lone call goes
// at once. Every call is still one script, atomic on the server, so this
// changes no guarantee; an error of the pipeline (the connection failed) is
// the error of each of its calls, wrapped as for any command (noReplay:
// ErrMaybeApplied once sent, never retried).
type batcher struct {
	c    redis.UniversalClient
	reqs chan *call
	stop chan struct{}
	wg   sync.WaitGroup
}

// Batching: workers, and calls per pipeline.
const (
	batchWorkers = 4
	maxBatch     = 16
)

type call struct {
	ctx  context.Context
	sha  string
	keys []string
	args []any
	done chan struct{}
	v    any
	err  error
}

func newBatcher(c redis.UniversalClient, workers int) *batcher {
	b := &batcher{c: c, reqs: make(chan *call, workers*maxBatch), stop: make(chan struct{})}
	for range workers {
		b.wg.Go(b.work)
	}
	return b
}

// close stops the workers once their pipelines have returned. Calls made
// after it fail with redis.ErrClosed.
func (b *batcher) close() {
	close(b.stop)
	b.wg.Wait()
}

// evalSha runs EVALSHA in a pipeline. A call whose ctx has ended is not
// sent; when ctx ends after the call was sent, it returns ctx's error and
// the script may still run on the server.
func (b *batcher) evalSha(ctx context.Context, sha string, keys []string, args []any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-b.stop:
		return nil, redis.ErrClosed
	default:
	}
	c := &call{ctx: ctx, sha: sha, keys: keys, args: args, done: make(chan struct{})}
	select {
	case b.reqs <- c:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-c.done:
		return c.v, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.stop:
		select {
		case <-c.done: // sent before the stop
			return c.v, c.err
		default:
			return nil, redis.ErrClosed
		}
	}
}

func (b *batcher) work() {
	batch := make([]*call, 0, maxBatch)
	cmds := make([]*redis.Cmd, 0, maxBatch)
	for {
		select {
		case c := <-b.reqs:
			batch = append(batch[:0], c)
		case <-b.stop:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case c := <-b.reqs:
				batch = append(batch, c)
			default:
				break more
			}
		}
		// Calls whose caller gave up while they waited are not sent.
		live := batch[:0]
		for _, c := range batch {
			if err := c.ctx.Err(); err != nil {
				c.err = err
				close(c.done)
				continue
			}
			live = append(live, c)
		}
		if len(live) > 0 {
			// The client's read and write timeouts bound the pipeline; a
			// caller whose context ends first stops waiting for it.
			cmds = cmds[:0]
			_, _ = b.c.Pipelined(context.Background(), func(p redis.Pipeliner) error {
				for _, c := range live {
					cmds = append(cmds, p.EvalSha(context.Background(), c.sha, c.keys, c.args...))
				}
				return nil
			})
			for i, c := range live {
				c.v, c.err = cmds[i].Result()
				close(c.done)
			}
		}
		clear(batch)
	}
}
