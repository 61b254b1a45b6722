package delivery

import (
	"context"
	"time"
)

// Observer is told of every attempt of a provider at a message, once the
// provider has returned: how long it took and its error (nil: delivered).
// Metrics implement it; it must not keep m.Code.
type Observer interface {
	ObserveDelivery(ctx context.Context, m Message, provider string, elapsed time.Duration, err error)
}

// Observed returns s reporting each of its sends to o as an attempt of the
// named provider. A nil o returns s itself.
func Observed(s Sender, provider string, o Observer) Sender {
	if o == nil {
		return s
	}
	return SenderFunc(func(ctx context.Context, m Message) error {
		start := time.Now()
		err := s.Send(ctx, m)
		o.ObserveDelivery(ctx, m, provider, time.Since(start), err)
		return err
	})
}
