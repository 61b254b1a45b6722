package loadgen

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/all"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
	"github.com/verifyfn/verifyfn/shared/store/redisstore"
	"github.com/verifyfn/verifyfn/shared/store/storeopen"
)

// server is an in-process server: the real stack (app.New) or the ceiling,
// served by app.Serve on a loopback port.
type server struct {
	url, host string
	store     io.Closer       // the store, closed with the server
	mem       *memstore.Store // the embedded store, when in use
	cmds      *cmdCounter     // Redis commands sent, when Redis is in use
	rs        *redisstore.Store
	stop      context.CancelFunc
	done      chan error
	app       *app.App
	// pid is the process of a spawned server (--spawn), 0 in-process;
	// closeChild stops it.
	pid        int
	closeChild func() error
}

// ceilingHandler answers every request with a bare envelope and does no
// other work: the most any handler behind app.Serve can do.
var ceilingHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header()["Content-Type"] = []string{"application/json"}
	w.Write([]byte(`{"Response":{"RequestId":"x"}}`))
})

// serve runs h on a loopback port with app.Serve until close.
func serve(h http.Handler, logger *slog.Logger) (*server, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stop: cancel, done: make(chan error, 1)}
	ready := make(chan net.Addr, 1)
	go func() {
		s.done <- app.Serve(ctx, "127.0.0.1:0", h, logger, func(a net.Addr) { ready <- a })
	}()
	select {
	case a := <-ready:
		s.host = a.String()
		s.url = "http://" + s.host + "/"
		return s, nil
	case err := <-s.done:
		cancel()
		return nil, err
	}
}

// close shuts the server down gracefully and releases the app.
func (s *server) close() error {
	if s.closeChild != nil {
		return s.closeChild()
	}
	s.stop()
	err := <-s.done
	if s.app != nil {
		s.app.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
	return err
}

// startFull builds the real stack for cfg: the development account, the
// store named by cfg.Store (as VERIFYFN_STORE: memory, file:PATH or a Redis
// URL), a sender that hands each code to the code book (and to
// cfg.OnMessage), the JSON logger, and production limits except the
// per-account request rate (one account drives all the load) and the fraud
// guard's velocity and conversion thresholds (the guard still counts),
// without the test kit's control plane.
func startFull(cfg *Config, book *codeBook) (*server, error) {
	c, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	c.CodeKey = cfg.CodeKey
	if c.CodeKey == nil {
		c.CodeKey = make([]byte, 32)
		rand.Read(c.CodeKey)
	}
	c.RateLimit = cfg.RateLimit
	// One account sends to runs of consecutive numbers, which the fraud
	// guard refuses as pumping: it stays on, doing all its work, with
	// thresholds no run reaches (the pumping mix restores them).
	c.Guard.PrefixLimit = 1 << 30
	c.Guard.MinPermille = 0
	// The control plane of the test kit is off, as in production: on Redis
	// it reads its shared state once per request.
	c.Control.Disabled = true
	if cfg.Policy != nil {
		cfg.Policy(&c)
	}
	logger := cfg.Logger
	if logger == nil {
		// Format every line as the binary does, then drop it.
		logger = app.NewLogger(io.Discard, "info")
	}
	sender := delivery.SenderFunc(func(ctx context.Context, m delivery.Message) error {
		book.deliver(m.Action, m.To, m.Code)
		if cfg.OnMessage != nil {
			cfg.OnMessage(m)
		}
		return ctx.Err()
	})
	opt := app.Options{Logger: logger, Sender: sender, EngineNow: cfg.EngineNow, OnGuardRefusal: cfg.OnGuardRefusal}
	st, err := storeopen.Open(cfg.Store)
	if err != nil {
		return nil, err
	}
	opt.Store = st
	mem, _ := st.(*memstore.Store)
	rs, _ := st.(*redisstore.Store)
	var cmds *cmdCounter
	if rs != nil {
		cmds = &cmdCounter{}
		rs.Client().AddHook(cmds)
		pctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = rs.Client().Ping(pctx).Err()
		cancel()
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("redis %s: %w", storeopen.Redact(cfg.Store), err)
		}
	}
	a, err := all.New(c, opt)
	if err != nil {
		st.Close()
		return nil, err
	}
	s, err := serve(a.Handler, logger)
	if err != nil {
		a.Close()
		st.Close()
		return nil, err
	}
	s.app, s.store, s.mem, s.cmds, s.rs = a, st, mem, cmds, rs
	return s, nil
}

// cmdCounter counts the commands (round trips) the store sends to Redis.
type cmdCounter struct{ n atomic.Int64 }

func (c *cmdCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *cmdCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *cmdCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1) // one round trip
		return next(ctx, cmds)
	}
}
