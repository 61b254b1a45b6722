package control_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/verifyfn/verifyfn/shared/control"
	"github.com/verifyfn/verifyfn/shared/delivery"
)

func TestNormalizeTo(t *testing.T) {
	for in, want := range map[string]string{
		"+852 5123 4567":    "+85251234567",
		"0085251234567":     "+85251234567",
		"85251234567":       "+85251234567",
		" +8613800138000 ":  "+8613800138000",
		"Bob@Example.COM":   "bob@example.com",
		"51234567":          "51234567", // no country: kept as given
		"not a destination": "not a destination",
		"":                  "",
	} {
		if got := control.NormalizeTo(in); got != want {
			t.Errorf("NormalizeTo(%q) = %q, want %q", in, got, want)
		}
	}
}

// The list keeps the newest MaxMessages; a message sent outside an API call
// (no front door named it) is listed without a service.
func TestMessageListIsBounded(t *testing.T) {
	p := control.New(control.Config{MaxMessages: 2})
	send := p.Sender(delivery.SenderFunc(func(context.Context, delivery.Message) error { return nil }), "test")
	for _, to := range []string{"+85251230001", "+85251230002", "+85251230003"} {
		if err := send.Send(context.Background(), delivery.Message{Channel: delivery.SMS, To: to, Code: "123456", Account: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(p.Handler(http.NotFoundHandler()))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/_verifyfn/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Messages []control.Message }
	json.NewDecoder(resp.Body).Decode(&out)
	if len(out.Messages) != 2 || out.Messages[0].ID != "2" || out.Messages[1].To != "+85251230003" ||
		out.Messages[1].Provider != "test" || out.Messages[1].Service != "" || out.Messages[1].At.IsZero() {
		t.Fatalf("messages %+v", out.Messages)
	}
	// A request that is not the control plane's goes to the API handler.
	resp, err = http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the API handler was not called: %d", resp.StatusCode)
	}
}
