package control

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifyfn/verifyfn/shared/contact"
)

// Message is one message verifyfn delivered, as the control plane lists it.
type Message struct {
	ID       string    `json:"id"` // increasing within this process
	At       time.Time `json:"at"`
	Account  string    `json:"account"`
	Service  string    `json:"service"`
	Action   string    `json:"action"`
	Purpose  string    `json:"purpose"`
	Channel  string    `json:"channel"`
	To       string    `json:"to"` // E.164 or the address
	Locale   string    `json:"locale"`
	Subject  string    `json:"subject,omitempty"` // email only
	Text     string    `json:"text"`
	Code     string    `json:"code"`
	Provider string    `json:"provider"`
}

// Filter selects messages; zero fields select everything.
type Filter struct {
	To      string // the destination's key (see NormalizeTo)
	Channel string
	Account string
	Service string
	Action  string
	After   int64 // only messages with a greater id
	Limit   int   // at most this many, the oldest first (0: no bound)
}

func (f Filter) match(m *Message, id int64) bool {
	return id > f.After &&
		(f.To == "" || NormalizeTo(m.To) == f.To) &&
		(f.Channel == "" || strings.EqualFold(m.Channel, f.Channel)) &&
		(f.Account == "" || m.Account == f.Account) &&
		(f.Service == "" || m.Service == f.Service) &&
		(f.Action == "" || m.Action == f.Action)
}

// NormalizeTo turns any spelling of a destination into the key the limits
// use (contact.Email.Key, contact.Phone.Key): "+852 5123 4567",
// "0085251234567" and "85251234567" are all "+85251234567", and
// "Bob@Example.COM" is "bob@example.com". Anything else is returned trimmed.
func NormalizeTo(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if strings.Contains(s, "@") {
		if e, err := contact.ParseEmail(s); err == nil {
			return e.Key()
		}
		return s
	}
	if p, err := contact.ParsePhone("", s); err == nil {
		return p.Key()
	}
	return s
}

// messages is the list of delivered messages of this process, bounded, with
// a way to wait for the next one.
type messages struct {
	mu      sync.Mutex
	max     int
	seq     int64
	ids     []int64
	list    []Message
	changed chan struct{} // closed and replaced on every change
	cleared int64         // incremented by every clear
}

func newMessages(max int) *messages { return &messages{max: max, changed: make(chan struct{})} }

func (l *messages) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *messages) add(m Message) Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	m.ID = strconv.FormatInt(l.seq, 10)
	if len(l.list) >= l.max {
		l.list, l.ids = slices.Delete(l.list, 0, 1), slices.Delete(l.ids, 0, 1)
	}
	l.list, l.ids = append(l.list, m), append(l.ids, l.seq)
	l.notify()
	return m
}

// clear forgets the messages of account, or all of them.
func (l *messages) clear(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if account == "" {
		l.list, l.ids = nil, nil
	} else {
		keep, ids := l.list[:0:0], l.ids[:0:0]
		for i, m := range l.list {
			if m.Account != account {
				keep, ids = append(keep, m), append(ids, l.ids[i])
			}
		}
		l.list, l.ids = keep, ids
	}
	l.cleared++
	l.notify()
}

// find returns the messages f selects, the oldest first, and a channel
// closed at the next change.
func (l *messages) find(f Filter) ([]Message, <-chan struct{}, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []Message{}
	for i := range l.list {
		if f.match(&l.list[i], l.ids[i]) {
			out = append(out, l.list[i])
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
	}
	return out, l.changed, l.cleared
}

// latest returns the newest message f selects, waiting until ctx ends for
// one to arrive when there is none yet.
func (l *messages) latest(ctx context.Context, f Filter) (Message, bool) {
	f.Limit = 0
	for {
		found, changed, _ := l.find(f)
		if len(found) > 0 {
			return found[len(found)-1], true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Message{}, false
		}
	}
}
