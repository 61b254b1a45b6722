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
	"unicode/utf8"

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
	buf  []byte // the line being written, reused
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
	o.buf = appendLine(o.buf[:0], Line{
		Channel: string(m.Channel), To: m.To, Text: m.Text, Code: m.Code, Locale: m.Locale,
		Action: m.Action, Purpose: m.Purpose, Account: m.Account, At: m.At.UTC(),
	})
	if _, err := o.file.Write(o.buf); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// appendLine appends l as json.Marshal encodes it, and a newline. It is
// Send's encoder: the same bytes without reflection or allocation.
func appendLine(b []byte, l Line) []byte {
	b = append(b, `{"channel":`...)
	b = appendString(b, l.Channel)
	b = append(b, `,"to":`...)
	b = appendString(b, l.To)
	b = append(b, `,"text":`...)
	b = appendString(b, l.Text)
	b = append(b, `,"code":`...)
	b = appendString(b, l.Code)
	if l.Locale != "" {
		b = append(b, `,"locale":`...)
		b = appendString(b, l.Locale)
	}
	b = append(b, `,"action":`...)
	b = appendString(b, l.Action)
	b = append(b, `,"purpose":`...)
	b = appendString(b, l.Purpose)
	b = append(b, `,"account":`...)
	b = appendString(b, l.Account)
	b = append(b, `,"at":"`...)
	b = l.At.AppendFormat(b, time.RFC3339Nano)
	return append(b, "\"}\n"...)
}

// appendString appends s as a JSON string, escaped as encoding/json escapes
// it (HTML characters, U+2028 and U+2029 too; invalid UTF-8 as U+FFFD).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
