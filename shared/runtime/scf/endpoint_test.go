package scf_test

import (
	"context"
	"errors"
	"net"
	"net/rpc"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"

	"github.com/verifyfn/verifyfn/shared/runtime/scf"
)

// endpoint serves invoke on a loopback port and returns a net/rpc client,
// the client the SCF runtime's protocol is defined by.
func endpoint(t *testing.T, invoke scf.Invoker) *rpc.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go scf.Serve(ln, invoke, nil)
	c, err := rpc.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); ln.Close() })
	return c
}

type fnError struct{ msg string }

func (e *fnError) Error() string { return e.msg }

func TestEndpointSpeaksNetRPC(t *testing.T) {
	var deadline time.Time
	c := endpoint(t, func(ctx context.Context, payload []byte) ([]byte, error) {
		deadline, _ = ctx.Deadline()
		switch string(payload) {
		case "fail":
			return nil, &fnError{"the event cannot be adapted"}
		case "panic":
			panic("boom")
		}
		return append([]byte("echo:"), payload...), nil
	})
	if err := c.Call("Function.Ping", &messages.PingRequest{}, &messages.PingResponse{}); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	due := time.Now().Add(30 * time.Second).Truncate(time.Second)
	var resp messages.InvokeResponse
	req := &messages.InvokeRequest{Payload: []byte("hi"), RequestId: "r1", Deadline: messages.InvokeRequest_Timestamp{Seconds: due.Unix()}}
	if err := c.Call("Function.Invoke", req, &resp); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if string(resp.Payload) != "echo:hi" || resp.Error != nil {
		t.Fatalf("payload %q error %+v", resp.Payload, resp.Error)
	}
	if !deadline.Equal(due) {
		t.Fatalf("the handler's deadline %v, want the invocation's %v", deadline, due)
	}

	resp = messages.InvokeResponse{}
	if err := c.Call("Function.Invoke", &messages.InvokeRequest{Payload: []byte("fail")}, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error == nil || resp.Error.Message != "the event cannot be adapted" || resp.Error.Type != "fnError" || resp.Error.ShouldExit {
		t.Fatalf("function error %+v", resp.Error)
	}
	resp = messages.InvokeResponse{}
	if err := c.Call("Function.Invoke", &messages.InvokeRequest{Payload: []byte("panic")}, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error == nil || resp.Error.Message != "boom" || !resp.Error.ShouldExit {
		t.Fatalf("panic %+v", resp.Error)
	}

	err := c.Call("Function.Nope", &messages.PingRequest{}, &messages.PingResponse{})
	var se rpc.ServerError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "can't find service Function.Nope") {
		t.Fatalf("unknown method: %v", err)
	}
	// the connection is still usable after an unknown method
	if err := c.Call("Function.Ping", &messages.PingRequest{}, &messages.PingResponse{}); err != nil {
		t.Fatalf("Ping after an unknown method: %v", err)
	}
}

// TestEndpointConcurrentCalls: calls in flight on one connection each get
// their own answer.
func TestEndpointConcurrentCalls(t *testing.T) {
	c := endpoint(t, func(ctx context.Context, payload []byte) ([]byte, error) { return payload, nil })
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := strconv.Itoa(i)
			var resp messages.InvokeResponse
			if err := c.Call("Function.Invoke", &messages.InvokeRequest{Payload: []byte(want)}, &resp); err != nil || string(resp.Payload) != want {
				t.Errorf("call %d: %v %q", i, err, resp.Payload)
			}
		}()
	}
	wg.Wait()
}
