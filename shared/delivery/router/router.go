// Package router picks the providers of a message by channel (sms, voice,
// email) and by the country calling code of its destination, and fails over
// along an ordered list: each provider is tried in turn until one delivers.
// A Router is itself a delivery.Sender.
//
// Routing is by prefix of the E.164 destination: a route for "1" matches
// every NANP number, one for "1876" only Jamaica, and the longest configured
// prefix wins; the route with no country code ("*") takes everything else,
// including email addresses.
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/verifyfn/verifyfn/shared/delivery"
)

// Provider is a named sender; the name appears in logs and errors.
type Provider struct {
	Name   string
	Sender delivery.Sender
}

// Route lists the providers tried, in order, for one channel and country.
type Route struct {
	Channel delivery.Channel
	// CountryCode is the country calling code (or any prefix of E.164
	// digits) of the destinations this route serves, without "+"; "" or "*"
	// serves every destination without a more specific route.
	CountryCode string
	Providers   []Provider
}

// ErrNoRoute is returned for a message whose channel and destination have no
// route.
var ErrNoRoute = errors.New("router: no provider for this channel and destination")

// Router delivers messages along routes. It is safe for concurrent use.
type Router struct {
	routes map[delivery.Channel]map[string][]Provider // channel -> prefix ("" = any) -> providers
	maxLen int
	logger *slog.Logger
}

// New validates routes and returns a Router. A nil logger discards.
func New(routes []Route, logger *slog.Logger) (*Router, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Router{routes: map[delivery.Channel]map[string][]Provider{}, logger: logger}
	for i, rt := range routes {
		switch rt.Channel {
		case delivery.SMS, delivery.Voice, delivery.Email:
		default:
			return nil, fmt.Errorf("router: route %d: unknown channel %q", i, rt.Channel)
		}
		cc := rt.CountryCode
		if cc == "*" {
			cc = ""
		}
		if strings.Trim(cc, "0123456789") != "" || strings.HasPrefix(cc, "0") || len(cc) > 15 {
			return nil, fmt.Errorf("router: route %d (%s): country code %q is not a calling code such as 86 or 852", i, rt.Channel, rt.CountryCode)
		}
		if rt.Channel == delivery.Email && cc != "" {
			return nil, fmt.Errorf("router: route %d: email routes take no country code", i)
		}
		if len(rt.Providers) == 0 {
			return nil, fmt.Errorf("router: route %d (%s %s): no providers", i, rt.Channel, rt.CountryCode)
		}
		for j, p := range rt.Providers {
			if p.Name == "" || p.Sender == nil {
				return nil, fmt.Errorf("router: route %d (%s %s): provider %d has no name or sender", i, rt.Channel, rt.CountryCode, j)
			}
		}
		if r.routes[rt.Channel] == nil {
			r.routes[rt.Channel] = map[string][]Provider{}
		}
		if _, dup := r.routes[rt.Channel][cc]; dup {
			return nil, fmt.Errorf("router: two routes for %s %q", rt.Channel, rt.CountryCode)
		}
		r.routes[rt.Channel][cc] = append([]Provider(nil), rt.Providers...)
		r.maxLen = max(r.maxLen, len(cc))
	}
	return r, nil
}

// Providers returns the providers that would be tried for m, in order.
func (r *Router) Providers(m delivery.Message) []Provider {
	byPrefix := r.routes[m.Channel]
	if byPrefix == nil {
		return nil
	}
	if digits, ok := strings.CutPrefix(m.To, "+"); ok && m.Channel != delivery.Email {
		for n := min(r.maxLen, len(digits)); n > 0; n-- {
			if ps, ok := byPrefix[digits[:n]]; ok {
				return ps
			}
		}
	}
	return byPrefix[""]
}

// Send tries the providers of m's route in order and returns nil as soon as
// one delivers (and names it with delivery.DeliveredBy). When all fail it returns an error naming each provider and
// its error, with the code and the destination redacted; it stops early when
// ctx ends. Failures are logged at warn level with the provider, the channel
// and the masked destination; neither the code nor the text is logged.
func (r *Router) Send(ctx context.Context, m delivery.Message) error {
	providers := r.Providers(m)
	if len(providers) == 0 {
		return fmt.Errorf("%w (channel %s)", ErrNoRoute, m.Channel)
	}
	var errs []error
	for i, p := range providers {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		err := p.Sender.Send(ctx, m)
		if err == nil {
			delivery.DeliveredBy(ctx, p.Name)
			if i > 0 {
				r.logger.LogAttrs(ctx, slog.LevelInfo, "delivered by a fallback provider",
					slog.String("provider", p.Name), slog.String("channel", string(m.Channel)),
					slog.String("to", Mask(m.To)), slog.Int("attempt", i+1))
			}
			return nil
		}
		// Providers redact their own secrets; an upstream that echoes the
		// request can still put the destination in an error.
		err = delivery.Redact(err, m.Code, m.To, strings.TrimPrefix(m.To, "+"))
		r.logger.LogAttrs(ctx, slog.LevelWarn, "delivery provider failed",
			slog.String("provider", p.Name), slog.String("channel", string(m.Channel)),
			slog.String("to", Mask(m.To)), slog.Int("attempt", i+1), slog.String("error", err.Error()))
		errs = append(errs, fmt.Errorf("%s: %w", p.Name, err))
	}
	return fmt.Errorf("delivery: every provider failed: %w", errors.Join(errs...))
}

// Mask shortens a destination for logs: "+852****67" for a phone number,
// "a***@example.com" for an email address.
func Mask(to string) string {
	if at := strings.LastIndexByte(to, '@'); at >= 0 {
		if at == 0 {
			return "***" + to[at:]
		}
		return to[:1] + "***" + to[at:]
	}
	if len(to) <= 6 {
		return strings.Repeat("*", len(to))
	}
	return to[:4] + "****" + to[len(to)-2:]
}
