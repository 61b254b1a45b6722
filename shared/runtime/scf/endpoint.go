package scf

import (
	"bufio"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"reflect"
	"sync"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
)

// The SCF Go1 runtime calls the function over Go's net/rpc protocol (what
// scf-go-lib's cloudfunction.Start serves): on one TCP connection, each call
// is a gob-encoded request header (rpcRequest) followed by its argument,
// each answer a gob-encoded response header (rpcResponse) followed by its
// result, on one gob stream per direction. The services are
// "Function.Ping" (messages.PingRequest → messages.PingResponse) and
// "Function.Invoke" (messages.InvokeRequest → messages.InvokeResponse).
//
// This endpoint speaks that protocol with encoding/gob directly instead of
// through net/rpc: net/rpc registers its services by reflecting over their
// methods, and linking it (with html/template for its debug pages) stops the
// Go linker from dropping unused methods anywhere in the binary, which made
// every function about 8 MB larger and slower to start.

// rpcRequest and rpcResponse are net/rpc's Request and Response headers; gob
// matches them by field name.
type (
	rpcRequest struct {
		ServiceMethod string
		Seq           uint64
	}
	rpcResponse struct {
		ServiceMethod string
		Seq           uint64
		Error         string
	}
)

// Invoker runs one invocation: the event payload in, the response payload
// out. An error is reported to SCF as a function error.
type Invoker func(ctx context.Context, payload []byte) ([]byte, error)

// Serve answers the SCF runtime's calls on ln until ln fails. Each
// connection is served on its own goroutine, each call on its own as well,
// as net/rpc does; answers are written whole, one at a time.
func Serve(ln net.Listener, invoke Invoker, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		go serveConn(conn, invoke, logger)
	}
}

func serveConn(conn net.Conn, invoke Invoker, logger *slog.Logger) {
	defer conn.Close()
	dec := gob.NewDecoder(bufio.NewReader(conn))
	out := &answerer{w: bufio.NewWriter(conn)}
	out.enc = gob.NewEncoder(out.w)
	var calls sync.WaitGroup
	defer calls.Wait()
	for {
		var hdr rpcRequest
		if err := dec.Decode(&hdr); err != nil {
			if !errors.Is(err, io.EOF) {
				logger.Warn("scf: reading a call", "error", err.Error())
			}
			return
		}
		switch hdr.ServiceMethod {
		case "Function.Ping":
			var req messages.PingRequest
			if err := dec.Decode(&req); err != nil {
				logger.Warn("scf: reading Ping", "error", err.Error())
				return
			}
			out.answer(hdr, "", &messages.PingResponse{})
		case "Function.Invoke":
			var req messages.InvokeRequest
			if err := dec.Decode(&req); err != nil {
				logger.Warn("scf: reading Invoke", "error", err.Error())
				return
			}
			calls.Add(1)
			go func() {
				defer calls.Done()
				out.answer(hdr, "", run(invoke, &req))
			}()
		default:
			if err := dec.DecodeValue(reflect.Value{}); err != nil { // discard the argument
				return
			}
			out.answer(hdr, "rpc: can't find service "+hdr.ServiceMethod, struct{}{})
		}
	}
}

// answerer writes answers on one connection, one at a time.
type answerer struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *gob.Encoder
}

func (a *answerer) answer(hdr rpcRequest, errMsg string, body any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	resp := rpcResponse{ServiceMethod: hdr.ServiceMethod, Seq: hdr.Seq, Error: errMsg}
	if a.enc.Encode(&resp) == nil && a.enc.Encode(body) == nil {
		a.w.Flush()
	}
}

// run is one Invoke: the handler under the invocation's deadline, a panic
// or an error turned into the function error SCF expects.
func run(invoke Invoker, req *messages.InvokeRequest) (resp *messages.InvokeResponse) {
	resp = &messages.InvokeResponse{}
	defer func() {
		if v := recover(); v != nil {
			resp.Payload = nil
			resp.Error = &messages.InvokeResponse_Error{Message: fmt.Sprint(v), Type: typeName(v), ShouldExit: true}
		}
	}()
	ctx := context.Background()
	if req.Deadline.Seconds != 0 || req.Deadline.Nanos != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(req.Deadline.Seconds, req.Deadline.Nanos))
		defer cancel()
	}
	payload, err := invoke(ctx, req.Payload)
	if err != nil {
		resp.Error = &messages.InvokeResponse_Error{Message: err.Error(), Type: typeName(err)}
		return resp
	}
	resp.Payload = payload
	return resp
}

// typeName names v's type as scf-go-lib does: the name of the type, or of
// the type it points to.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// listenAndServe serves on localhost:$_LAMBDA_SERVER_PORT, as scf-go-lib
// does, and exits the process if it cannot listen or stops accepting.
func listenAndServe(invoke Invoker) {
	ln, err := net.Listen("tcp", "localhost:"+os.Getenv("_LAMBDA_SERVER_PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "scf:", err)
		os.Exit(1)
	}
	err = Serve(ln, invoke, nil)
	fmt.Fprintln(os.Stderr, "scf: accept:", err)
	os.Exit(1)
}

// invoker adapts the gateway handler to an Invoker: the payload is the API
// Gateway trigger event, JSON in and out.
func invoker(handler func(context.Context, Request) (Response, error)) Invoker {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev Request
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("scf: the event is not an API Gateway trigger event: %w", err)
		}
		resp, err := handler(ctx, ev)
		if err != nil {
			return nil, err
		}
		return json.Marshal(resp)
	}
}
