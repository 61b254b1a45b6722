package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/metrics"
	"github.com/verifyfn/verifyfn/shared/store"
)

// nopStore answers every operation at once.
type nopStore struct{ store.Store }

func (nopStore) Issue(context.Context, store.IssueOp) (store.IssueResult, error) {
	return store.IssueResult{}, nil
}

// BenchmarkSendVerifyCodeHooks is what the metrics do for one
// SendVerifyCode: the request, its store operation and its message (to a
// Hong Kong and a US number, whose region the service found).
func BenchmarkSendVerifyCodeHooks(b *testing.B) {
	for _, c := range []struct{ to, region string }{{"+85251234567", "HK"}, {"+12125550123", "US"}} {
		b.Run(c.region, func(b *testing.B) {
			m := metrics.New(metrics.Options{})
			st := m.Store(nopStore{})
			msg := delivery.Message{Channel: delivery.SMS, To: c.to, Region: c.region}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				st.Issue(ctx, store.IssueOp{})
				m.ObserveDelivery(ctx, msg, "twilio", time.Millisecond, nil)
				m.ObserveRequest("intlpartnersmgt", "SendVerifyCode", "OK", time.Millisecond)
			}
		})
	}
}
