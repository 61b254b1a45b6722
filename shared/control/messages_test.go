package control_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/control"
)

// Every message a send delivers is listed, oldest first, with every field;
// the filters select by destination in any spelling, channel, account,
// service, action, after an id, and at most limit messages.
func TestMessages(t *testing.T) {
	k := start(t, apitest.WithConfig(generous))
	if got := k.messages(t, ""); len(got) != 0 {
		t.Fatalf("messages before any send: %v", got)
	}
	before := time.Now().Add(-time.Second)
	if c := k.sendVerifyCode(t, "51234567"); c != "" {
		t.Fatal(c)
	}
	if c := k.sendContactCode(t, "Bob@Example.COM"); c != "" {
		t.Fatal(c)
	}
	if c, _ := k.getChatappCode(t, "85261234567"); c != "" {
		t.Fatal(c)
	}
	if c := k.sendSmsCode(t, "ChannelUpdateVerify", "18999999999"); c != "" {
		t.Fatal(c)
	}
	all := k.messages(t, "")
	if len(all) != 4 {
		t.Fatalf("%d messages, want 4: %+v", len(all), all)
	}
	m := all[0]
	if m.ID == "" || m.At.Before(before) || m.Account != accounts.DevAccountID || m.Service != "intlpartnersmgt" ||
		m.Action != "SendVerifyCode" || m.Purpose != "register" || m.Channel != "sms" || m.To != "+85251234567" ||
		m.Locale != "en" || len(m.Code) != 6 || !strings.Contains(m.Text, m.Code) || m.Provider != "outbox" {
		t.Fatalf("first message %+v", m)
	}
	// The message is the one the outbox got.
	if line := k.Messages(t)[0]; line.Code != m.Code || line.To != m.To || line.Text != m.Text {
		t.Fatalf("outbox line %+v differs from %+v", line, m)
	}
	if e := all[1]; e.Service != "domain" || e.Channel != "email" || e.To != "Bob@example.com" || e.Subject == "" {
		t.Fatalf("email message %+v", e)
	}
	if c := all[2]; c.Service != "cams" || c.Action != "GetChatappVerifyCode" || c.To != "+85261234567" {
		t.Fatalf("cams message %+v", c)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID && len(all[i].ID) <= len(all[i-1].ID) {
			t.Fatalf("ids not increasing: %s then %s", all[i-1].ID, all[i].ID)
		}
	}

	for _, tc := range []struct {
		query string
		want  []int // indexes into all
	}{
		{"?to=%2B85251234567", []int{0}},
		{"?to=%2B852%205123%204567", []int{0}},
		{"?to=0085251234567", []int{0}},
		{"?to=85251234567", []int{0}},
		{"?to=bob@example.com", []int{1}}, // the mailbox's key, as the limits use it
		{"?to=BOB@EXAMPLE.com", []int{1}},
		{"?to=carol@example.com", nil},
		{"?channel=sms", []int{0, 2, 3}},
		{"?channel=email", []int{1}},
		{"?account=" + accounts.DevAccountID, []int{0, 1, 2, 3}},
		{"?account=nobody", nil},
		{"?service=smh", []int{3}},
		{"?action=GetChatappVerifyCode", []int{2}},
		{"?after=" + all[1].ID, []int{2, 3}},
		{"?limit=2", []int{0, 1}},
		{"?after=" + all[0].ID + "&limit=1&channel=sms", []int{2}},
	} {
		got := k.messages(t, tc.query)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d messages, want %d", tc.query, len(got), len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if got[i].ID != all[w].ID {
				t.Errorf("%s: message %d is %s, want %s", tc.query, i, got[i].ID, all[w].ID)
			}
		}
	}
	for _, q := range []string{"?after=x", "?limit=0", "?limit=-1", "?colour=red"} {
		k.refused(t, http.StatusBadRequest, http.MethodGet, "/_verifyfn/messages"+q, nil)
	}

	k.must(t, http.StatusNoContent, http.MethodDelete, "/_verifyfn/messages", nil, nil)
	if got := k.messages(t, ""); len(got) != 0 {
		t.Fatalf("messages after DELETE: %v", got)
	}
	// Ids go on from where they were.
	k.sendVerifyCode(t, "51234568")
	if got := k.messages(t, ""); len(got) != 1 || got[0].ID <= all[3].ID && len(got[0].ID) <= len(all[3].ID) {
		t.Fatalf("message after DELETE: %+v", got)
	}
}

// latest answers the newest message to a destination, 404 when there is
// none, and with wait it waits for one to arrive.
func TestLatestMessage(t *testing.T) {
	k := start(t, apitest.WithConfig(generous))
	k.refused(t, http.StatusNotFound, http.MethodGet, "/_verifyfn/messages/latest?to=%2B85251234567", nil)
	k.refused(t, http.StatusNotFound, http.MethodGet, "/_verifyfn/messages/latest?to=%2B85251234567&wait=10ms", nil)
	for _, q := range []string{"?wait=soon", "?wait=-1s", "?wait=2m", "?after=x"} {
		k.refused(t, http.StatusBadRequest, http.MethodGet, "/_verifyfn/messages/latest"+q, nil)
	}
	k.sendVerifyCode(t, "51234567")
	k.Clock.Advance(time.Minute) // past the cooldown
	k.sendVerifyCode(t, "51234567")
	k.sendVerifyCode(t, "51234568")
	all := k.messages(t, "")
	if m := k.latest(t, "+852 5123 4567"); m.ID != all[1].ID {
		t.Fatalf("latest to the number: %s, want %s", m.ID, all[1].ID)
	}
	k.refused(t, http.StatusNotFound, http.MethodGet, "/_verifyfn/messages/latest?to=%2B85251234567&after="+all[1].ID, nil)

	// A waiting request gets the message that arrives while it waits.
	got := make(chan control.Message, 1)
	go func() {
		var m control.Message
		status, b := k.do(t, http.MethodGet, "/_verifyfn/messages/latest?to=%2B85251234567&wait=1m&after="+all[2].ID, nil)
		if status == http.StatusOK {
			json.Unmarshal(b, &m)
		}
		got <- m
	}()
	k.Clock.Advance(time.Minute)
	if c := k.sendVerifyCode(t, "51234567"); c != "" {
		t.Fatal(c)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	select {
	case m := <-got:
		if m.To != "+85251234567" || m.Code == "" || m.ID <= all[2].ID && len(m.ID) <= len(all[2].ID) {
			t.Fatalf("the waiting request got %+v", m)
		}
	case <-ctx.Done():
		t.Fatal("the waiting request never answered")
	}
}

// The stream sends each message as a server-sent event as it is delivered,
// with after (or Last-Event-ID) first the ones after that id, and a clear
// event when the list is cleared.
func TestMessageStream(t *testing.T) {
	k := start(t, apitest.WithConfig(generous))
	k.sendVerifyCode(t, "51234560")
	first := k.messages(t, "")[0]

	type event struct{ id, name, data string }
	open := func(query string, header http.Header) <-chan event {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, k.URL+"/_verifyfn/messages/stream"+query, nil)
		for n, v := range header {
			req.Header[n] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		events := make(chan event, 16)
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			var e event
			for sc.Scan() {
				line := sc.Text()
				switch {
				case line == "":
					if e.name != "" {
						events <- e
					}
					e = event{}
				case strings.HasPrefix(line, "id: "):
					e.id = line[4:]
				case strings.HasPrefix(line, "event: "):
					e.name = line[7:]
				case strings.HasPrefix(line, "data: "):
					e.data = line[6:]
				}
			}
			close(events)
		}()
		return events
	}
	next := func(events <-chan event) event {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			return e
		case <-ctx.Done():
			t.Fatal("no event within a minute")
		}
		return event{}
	}
	live := open("", nil)                           // new messages only
	sms := open("?channel=sms&to=85251234561", nil) // one destination
	replay := open("?after=0", nil)                 // everything, then new ones
	resumed := open("", http.Header{"Last-Event-Id": {first.ID}})

	if e := next(replay); e.name != "message" || e.id != first.ID {
		t.Fatalf("replayed event %+v, want message %s", e, first.ID)
	}
	k.sendContactCode(t, "bob@example.com")
	k.sendVerifyCode(t, "51234561")
	msgs := k.messages(t, "")
	for name, events := range map[string]<-chan event{"live": live, "replay": replay, "resumed": resumed} {
		for _, want := range msgs[1:] {
			e := next(events)
			var m control.Message
			if err := json.Unmarshal([]byte(e.data), &m); err != nil || e.name != "message" || e.id != want.ID || m.ID != want.ID || m.Code != want.Code {
				t.Fatalf("%s stream: event %+v, want message %s", name, e, want.ID)
			}
		}
	}
	if e := next(sms); e.id != msgs[2].ID {
		t.Fatalf("filtered stream: event %+v, want only %s", e, msgs[2].ID)
	}
	k.must(t, http.StatusNoContent, http.MethodDelete, "/_verifyfn/messages", nil, nil)
	if e := next(live); e.name != "clear" {
		t.Fatalf("after DELETE: event %+v, want clear", e)
	}
	if e := next(sms); e.name != "clear" {
		t.Fatalf("filtered stream after DELETE: event %+v, want clear (not the email)", e)
	}
}

// With providers configured, a message names the provider that delivered
// it, and its text is the configured template's, as delivered.
func TestMessageProviderAndTemplate(t *testing.T) {
	dir := t.TempDir()
	tmpl := dir + "/templates.yaml"
	if err := os.WriteFile(tmpl, []byte("sms:\n  en:\n    default: \"ACME: {{code}}\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k := start(t, apitest.WithConfig(func(c *config.Config) {
		c.Delivery.YAML = "providers:\n  capture: {type: outbox, path: " + dir + "/capture.jsonl}\nroutes:\n  sms: {\"*\": [capture]}\n"
		c.Delivery.TemplatesFile = tmpl
	}))
	k.sendVerifyCode(t, "51234567")
	m := k.latest(t, "+85251234567")
	if m.Provider != "capture" || m.Text != "ACME: "+m.Code {
		t.Fatalf("message %+v", m)
	}
}
