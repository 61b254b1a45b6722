package outbox

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/delivery"
)

// tricky are strings that encoding/json escapes.
var tricky = []string{
	"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "\n\r\t\b\f\x00\x01\x1f\x7f",
	"ünïcödé 验证码 😀", "\u2028\u2029", "bad \xff\xfe utf-8 \xe2\x82", "\xed\xa0\x80 surrogate",
}

// TestEncodeIsJSONMarshal checks that Send's encoder writes the bytes
// json.Marshal writes, so every reader of the outbox sees the same lines.
func TestEncodeIsJSONMarshal(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 45, 20, 819199878, time.UTC)
	for _, s := range tricky {
		for _, l := range []Line{
			{Channel: "sms", To: "+85291346942", Text: s, Code: "943586", Locale: "en", Action: "SendVerifyCode",
				Purpose: "register", Account: "200000000001", At: at},
			{Channel: s, To: s, Text: s, Code: s, Action: s, Purpose: s, Account: s, At: at.Truncate(time.Second)},
		} {
			checkLine(t, l)
		}
	}
}

func checkLine(t *testing.T, l Line) {
	t.Helper()
	want, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	got, err := (&Outbox{}).encode(l)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("encode:\n got %q\nwant %q", got, want)
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, s, int64(1764765920819199878))
	}
	f.Fuzz(func(t *testing.T, text, to string, nanos int64) {
		checkLine(t, Line{Channel: "email", To: to, Text: text, Code: "123456", Locale: to, Action: "a",
			Purpose: "p", Account: "1", At: time.Unix(0, nanos).UTC()})
	})
}

// TestSendRead sends from many goroutines and reads every line back whole.
func TestSendRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	o, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				m := delivery.Message{Channel: "sms", To: "+85251234567", Text: tricky[(g+i)%len(tricky)], Code: "000000",
					Action: "SendVerifyCode", At: time.Now()}
				if err := o.Send(context.Background(), m); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	o.Close()
	lines, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if l.To != "+85251234567" || l.Code != "000000" || l.At.IsZero() {
			t.Fatalf("line %+v", l)
		}
	}
}

func BenchmarkSend(b *testing.B) {
	o, err := Open(filepath.Join(b.TempDir(), "outbox.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close()
	m := delivery.Message{Channel: "sms", To: "+85291346942", Text: "Your verification code is 943586. It expires in 10 minutes. Do not share it with anyone.",
		Code: "943586", Locale: "en", Action: "SendVerifyCode", Purpose: "register", Account: "200000000001", At: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		o.Send(context.Background(), m)
	}
}
