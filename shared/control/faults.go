package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/delivery"
)

// catalog indexes the actions faults may name.
type catalog struct {
	list     []Action
	byName   map[string]*Action // "service/action"
	services map[string][]string
}

func newCatalog(actions []Action) *catalog {
	c := &catalog{list: actions, byName: map[string]*Action{}, services: map[string][]string{}}
	for i := range actions {
		a := &c.list[i]
		c.byName[a.Service+"/"+a.Action] = a
		c.services[a.Service] = append(c.services[a.Service], a.Action)
	}
	return c
}

func (c *catalog) action(service, action string) (*Action, error) {
	if a := c.byName[service+"/"+action]; a != nil {
		return a, nil
	}
	names, ok := c.services[service]
	if !ok {
		known := make([]string, 0, len(c.services))
		for s := range c.services {
			known = append(known, s)
		}
		slices.Sort(known)
		return nil, fmt.Errorf("unknown service %q; this server serves %s", truncate(service), strings.Join(known, ", "))
	}
	return nil, fmt.Errorf("service %s has no action %q; its actions: %s", service, truncate(action), strings.Join(names, ", "))
}

// documented returns the error of a that answers code: its first value.
func (a *Action) documented(code string) *apierr.Error {
	for _, e := range a.Documented {
		if e.Code == code {
			return e
		}
	}
	return nil
}

func (a *Action) codes() []string {
	out := make([]string, 0, len(a.Documented))
	for _, e := range a.Documented {
		out = append(out, e.Code)
	}
	return out
}

// FaultRequest is the body of POST /_verifyfn/faults.
type FaultRequest struct {
	Service  string   `json:"service"`
	Action   string   `json:"action"`
	Code     string   `json:"code"`
	Delivery string   `json:"delivery"`
	To       string   `json:"to"`
	Account  string   `json:"account"`
	Count    *int     `json:"count"`
	Delay    Duration `json:"delay"`
}

// Limits of a fault.
const (
	MaxFaultCount = 10000
	MaxFaultDelay = time.Minute
)

// fault validates a request against the catalog and returns the fault to
// record; the error names what the action documents.
func (p *Plane) fault(r FaultRequest) (Fault, error) {
	a, err := p.actions.Load().action(r.Service, r.Action)
	if err != nil {
		return Fault{}, err
	}
	f := Fault{Service: a.Service, Action: a.Action, To: NormalizeTo(r.To), Account: r.Account, Count: 1, Delay: r.Delay}
	if r.Count != nil {
		f.Count = *r.Count
	}
	if f.Count < 1 || f.Count > MaxFaultCount {
		return Fault{}, fmt.Errorf("count must be 1 to %d", MaxFaultCount)
	}
	if r.Delay < 0 || time.Duration(r.Delay) > MaxFaultDelay {
		return Fault{}, fmt.Errorf("delay must be 0 to %s", MaxFaultDelay)
	}
	switch {
	case r.Code != "" && r.Delivery != "":
		return Fault{}, errors.New(`give either code or "delivery": "fail", not both`)
	case r.Delivery != "":
		if r.Delivery != "fail" {
			return Fault{}, fmt.Errorf(`delivery must be "fail", not %q`, truncate(r.Delivery))
		}
		if !a.Delivers {
			return Fault{}, fmt.Errorf("%s %s delivers no message", a.Service, a.Action)
		}
		f.Delivery = "fail"
	case r.Code != "":
		if a.documented(r.Code) == nil {
			return Fault{}, fmt.Errorf("%s %s does not document %q; it documents %s", a.Service, a.Action, truncate(r.Code), strings.Join(a.codes(), ", "))
		}
		f.Code = r.Code
	case r.Delay == 0:
		return Fault{}, errors.New(`give a code, "delivery": "fail", or a delay`)
	}
	return f, nil
}

// match reports whether f applies to a call (for a fault on the call itself
// when delivery is false, on its delivery otherwise), to the destination
// to() returns.
func (f *Fault) match(c call, deliveryFault bool, to func() string) bool {
	if (f.Delivery != "") != deliveryFault || f.Service != c.service || f.Action != c.action {
		return false
	}
	if f.Account != "" && f.Account != c.account {
		return false
	}
	return f.To == "" || NormalizeTo(to()) == f.To
}

// call is the API call a request is for, as the front door named it.
type call struct{ service, action, account string }

type callKey struct{}

func callOf(ctx context.Context) (call, bool) {
	c, ok := ctx.Value(callKey{}).(call)
	return c, ok
}

// take finds the first pending fault that applies and consumes one of its
// calls; it returns nil when none applies.
func (p *Plane) take(ctx context.Context, c call, deliveryFault bool, to func() string) *Fault {
	faults := p.snapshot(ctx).Faults
	for i := range faults {
		f := &faults[i]
		if !f.match(c, deliveryFault, to) {
			continue
		}
		ok, err := p.cfg.State.TakeFault(ctx, f.ID)
		if err != nil {
			p.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "control: taking a fault failed", slog.String("error", err.Error()))
			continue
		}
		if ok {
			p.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "control: fault injected", slog.String("fault", f.ID),
				slog.String("service", f.Service), slog.String("action", f.Action), slog.String("code", f.Code), slog.String("delivery", f.Delivery))
			return f
		}
	}
	return nil
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Intercept is the front doors' hook (tcapi.Intercept, acsapi.Intercept):
// it names the call in the context (for the sender) and answers the first
// pending fault for it with its documented error, before the handler runs,
// so that the call changes nothing. A fault with only a delay lets the call
// run after it.
func (p *Plane) Intercept(ctx context.Context, service, action, account string, destination func() string) (context.Context, error) {
	c := call{service: service, action: action, account: account}
	ctx = context.WithValue(ctx, callKey{}, c)
	f := p.take(ctx, c, false, destination)
	if f == nil {
		return ctx, nil
	}
	sleep(ctx, time.Duration(f.Delay))
	if f.Code == "" {
		return ctx, nil
	}
	a, err := p.actions.Load().action(service, action)
	if err != nil {
		return ctx, nil
	}
	if e := a.documented(f.Code); e != nil {
		return ctx, e
	}
	return ctx, nil
}

// ErrInjectedDelivery is the cause of a delivery the test kit made fail.
var ErrInjectedDelivery = errors.New("control: delivery failed on purpose (a fault of the test kit)")

// Sender wraps the app's sender: it fails a delivery a pending fault names,
// and records every message inner delivered (name is the provider when inner
// names none, as the development outbox does not).
func (p *Plane) Sender(inner delivery.Sender, name string) delivery.Sender {
	return delivery.SenderFunc(func(ctx context.Context, m delivery.Message) error {
		c, _ := callOf(ctx)
		if c.account == "" {
			c.account = m.Account
		}
		if f := p.take(ctx, c, true, func() string { return m.To }); f != nil {
			sleep(ctx, time.Duration(f.Delay))
			return ErrInjectedDelivery
		}
		provider := ""
		err := inner.Send(delivery.WithDeliveredBy(ctx, func(n string) { provider = n }), m)
		if err != nil {
			return err
		}
		if provider == "" {
			provider = name
		}
		at := m.At
		if at.IsZero() {
			at = p.Now()
		}
		p.messages.add(Message{
			At: at.UTC(), Account: m.Account, Service: c.service, Action: m.Action, Purpose: m.Purpose, Channel: string(m.Channel),
			To: m.To, Locale: m.Locale, Subject: m.Subject, Text: m.Text, Code: m.Code, Provider: provider,
		})
		return nil
	})
}
