// Package outbox is the development sender: it appends every message as one
// JSON line to a file, so a developer or a test can read the code that would
// have been sent. It is for local runs and tests, never production.
package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/verifyfn/verifyfn/shared/delivery"
)

// Line is the JSON form of one outbox entry.
type Line struct {
	Channel string    `json:"channel"`
	To      string    `json:"to"`
	Text    string    `json:"text"`
	Code    string    `json:"code"`
	Locale  string    `json:"locale,omitempty"`
	Action  string    `json:"action"`
	Purpose string    `json:"purpose"`
	Account string    `json:"account"`
	At      time.Time `json:"at"`
}

// Outbox appends messages to a file. It is safe for concurrent use, and
// several processes may append to one file (each line is one write in
// O_APPEND mode).
type Outbox struct {
	mu   sync.Mutex
	file *os.File
	buf  bytes.Buffer  // the line being written, reused
	enc  *json.Encoder // writes to buf
}

// Open opens (creating if needed) the outbox file at path for appending.
func Open(path string) (*Outbox, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{file: f}, nil
}

// Send appends m as one JSON line.
func (o *Outbox) Send(ctx context.Context, m delivery.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	b, err := o.encode(Line{
		Channel: string(m.Channel), To: m.To, Text: m.Text, Code: m.Code, Locale: m.Locale,
		Action: m.Action, Purpose: m.Purpose, Account: m.Account, At: m.At.UTC(),
	})
	if err != nil {
		return err
	}
	if _, err := o.file.Write(b); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// encode writes l to buf as json.Marshal encodes it, and a newline: Send's
// encoder, an Encoder over a buffer reused from line to line.
func (o *Outbox) encode(l Line) ([]byte, error) {
	o.buf.Reset()
	if o.enc == nil {
		o.enc = json.NewEncoder(&o.buf)
	}
	if err := o.enc.Encode(l); err != nil {
		return nil, err
	}
	return o.buf.Bytes(), nil
}

// Close closes the file.
func (o *Outbox) Close() error { return o.file.Close() }

// Read parses every line of the outbox file at path.
func Read(path string) ([]Line, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Line
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var l Line
		if err := dec.Decode(&l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}
