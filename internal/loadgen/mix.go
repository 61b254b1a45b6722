package loadgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Services and versions of the actions the harness drives.
const (
	svcIntl   = "intlpartnersmgt"
	verIntl   = "2022-09-28"
	svcSMH    = "smh"
	verSMH    = "2021-07-12"
	svcDomain = "domain"
	verDomain = "2018-08-08"
)

// Action names.
const (
	SendVerifyCode             = "SendVerifyCode"
	SendSmsCode                = "SendSmsCode"
	VerifySmsCode              = "VerifySmsCode"
	SendIntlPhoneEmailCode     = "SendIntlPhoneEmailCode"
	CreateIntlPhoneEmail       = "CreateIntlPhoneEmail"
	DeleteIntlPhoneEmail       = "DeleteIntlPhoneEmail"
	DescribeIntlPhoneEmailList = "DescribeIntlPhoneEmailList"
)

// DefaultMix is the "mixed" workload: registrations (SendVerifyCode) to many
// numbers, SMH super-admin codes sent and checked, contact codes sent and
// checked, and verified contacts removed again (listed when none is left to
// remove). Checks use the right code after 0, 1, 2 or 5 wrong guesses (70,
// 20, 6 and 4 % of codes), so some codes burn; 3 % of sends repeat a
// number inside its cooldown and are refused by the limits.
const DefaultMix = "SendVerifyCode:30,SendSmsCode:15,VerifySmsCode:15,SendIntlPhoneEmailCode:15,CreateIntlPhoneEmail:13,DeleteIntlPhoneEmail:12"

var knownActions = []string{SendVerifyCode, SendSmsCode, VerifySmsCode, SendIntlPhoneEmailCode, CreateIntlPhoneEmail, DeleteIntlPhoneEmail, DescribeIntlPhoneEmailList}

// Mix is a weighted set of actions.
type Mix struct {
	actions []string
	cum     []int // cumulative weights
}

// ParseMix reads "mixed" (DefaultMix) or a list "Action[:weight],...".
func ParseMix(s string) (Mix, error) {
	if s == "" || s == "mixed" {
		s = DefaultMix
	}
	var m Mix
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		name, w, hasW := strings.Cut(strings.TrimSpace(part), ":")
		if !slices.Contains(knownActions, name) {
			return Mix{}, fmt.Errorf("mix: unknown action %q (known: %s)", name, strings.Join(knownActions, ", "))
		}
		weight := 1
		if hasW {
			n, err := strconv.Atoi(w)
			if err != nil || n < 1 {
				return Mix{}, fmt.Errorf("mix: weight of %s must be a positive integer", name)
			}
			weight = n
		}
		total += weight
		m.actions = append(m.actions, name)
		m.cum = append(m.cum, total)
	}
	return m, nil
}

// String renders the mix as "Action:weight,...".
func (m Mix) String() string {
	var b strings.Builder
	prev := 0
	for i, a := range m.actions {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s:%d", a, m.cum[i]-prev)
		prev = m.cum[i]
	}
	return b.String()
}

func (m Mix) pick(r *rand.Rand) string {
	n := r.IntN(m.cum[len(m.cum)-1])
	i, _ := slices.BinarySearch(m.cum, n+1)
	return m.actions[i]
}

// call is one request to make and what to do with its outcome.
type call struct {
	service, version, action string
	body                     []byte
	done                     func(outcome string) // may be nil
}

// codeBook remembers the codes delivered for the flows the harness intends
// to check. Only tracked keys are kept, so its size is bounded by the
// pending queues.
type codeBook struct {
	mu sync.Mutex
	m  map[string]string
}

func bookKey(action, to string) string { return action + "|" + to }

func (b *codeBook) track(key string) {
	b.mu.Lock()
	b.m[key] = ""
	b.mu.Unlock()
}

// deliver records the code of a message to to sent by action, when tracked.
func (b *codeBook) deliver(action, to, code string) {
	k := bookKey(action, to)
	b.mu.Lock()
	if _, ok := b.m[k]; ok {
		b.m[k] = code
	}
	b.mu.Unlock()
}

func (b *codeBook) code(key string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[key]
}

func (b *codeBook) forget(key string) {
	b.mu.Lock()
	delete(b.m, key)
	b.mu.Unlock()
}

// flow is one code sent and to be checked.
type flow struct {
	key     string // codeBook key
	typ     int    // domain contact type (1 phone, 2 email)
	contact string // the number or address as sent
	wrong   int    // wrong guesses planned before the right code
	tries   int
}

// workload generates the calls of a mix. It is safe for concurrent use; each
// worker passes its own random source and state.
type workload struct {
	mix      Mix
	instance string // SMH instance for SendSmsCode
	base     uint64 // random start of the number spaces, so runs do not collide
	seq      [4]atomic.Uint64
	book     *codeBook
	smh      chan *flow // sent, to be checked
	contacts chan *flow // sent, to be checked
	verified chan *flow // verified contacts, to be removed

	keepDest bool
	destMu   sync.Mutex
	dests    map[string]struct{}
}

// Number spaces.
const (
	spaceHK = iota
	spaceSMH
	spaceContact
	spaceUnknown
)

const pendingCap = 1024

func newWorkload(m Mix, instance string, seed uint64, keepDest bool) *workload {
	return &workload{
		mix: m, instance: instance, base: seed % 1_000_000,
		book:     &codeBook{m: map[string]string{}},
		smh:      make(chan *flow, pendingCap),
		contacts: make(chan *flow, pendingCap),
		verified: make(chan *flow, pendingCap),
		keepDest: keepDest, dests: map[string]struct{}{},
	}
}

// worker is one worker's private state.
type worker struct {
	rng    *rand.Rand
	lastHK string // last number sent SendVerifyCode, for repeats
	lastCN string // last number sent SendSmsCode
}

func (w *workload) next(space int) uint64 { return w.base + w.seq[space].Add(1) }

func (w *workload) dest(e164 string) {
	if !w.keepDest {
		return
	}
	w.destMu.Lock()
	w.dests[e164] = struct{}{}
	w.destMu.Unlock()
}

// destinations returns every phone number (E.164) and address used.
func (w *workload) destinations() []string {
	w.destMu.Lock()
	defer w.destMu.Unlock()
	out := make([]string, 0, len(w.dests))
	for d := range w.dests {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

var hkPrefixes = []string{"512", "513", "514", "912", "913", "923", "934", "635", "640", "651"}

// hkNumber is the n-th of a million Hong Kong mobile numbers (8 digits).
func hkNumber(n uint64) string {
	return hkPrefixes[(n/100_000)%uint64(len(hkPrefixes))] + fmt.Sprintf("%05d", n%100_000)
}

// cnNumber is the n-th of a hundred million Chinese mobile numbers of prefix.
func cnNumber(prefix string, n uint64) string { return prefix + fmt.Sprintf("%08d", n%100_000_000) }

func planWrong(r *rand.Rand) int {
	switch n := r.IntN(100); {
	case n < 70:
		return 0
	case n < 90:
		return 1
	case n < 96:
		return 2
	default:
		return 5
	}
}

// guess returns the code to try: the right one, or a wrong one of the same
// shape. An unknown code (a remote target without an outbox) is a random one.
func guess(r *rand.Rand, code string, right bool) string {
	if code == "" {
		return fmt.Sprintf("%06d", r.IntN(1_000_000))
	}
	if right {
		return code
	}
	b := []byte(code)
	b[len(b)-1] = '0' + (b[len(b)-1]-'0'+1+byte(r.IntN(9)))%10
	return string(b)
}

func push(ch chan *flow, f *flow) bool {
	select {
	case ch <- f:
		return true
	default:
		return false
	}
}

func pop(ch chan *flow) *flow {
	select {
	case f := <-ch:
		return f
	default:
		return nil
	}
}

// call returns the next call of the mix for a worker.
func (w *workload) call(wk *worker) call {
	switch a := w.mix.pick(wk.rng); a {
	case SendVerifyCode:
		return w.sendVerifyCode(wk)
	case SendSmsCode:
		return w.sendSmsCode(wk)
	case VerifySmsCode:
		return w.verifySmsCode(wk)
	case SendIntlPhoneEmailCode:
		return w.sendContactCode(wk)
	case CreateIntlPhoneEmail:
		return w.createContact(wk)
	case DeleteIntlPhoneEmail:
		return w.deleteContact()
	default:
		return w.describeContacts()
	}
}

func (w *workload) sendVerifyCode(wk *worker) call {
	num := wk.lastHK
	if num == "" || wk.rng.IntN(100) >= 3 {
		num = hkNumber(w.next(spaceHK))
		w.dest("+852" + num)
		wk.lastHK = num
	}
	spelled := num
	if wk.rng.IntN(10) == 0 {
		spelled = num[:4] + " " + num[4:]
	}
	return call{service: svcIntl, version: verIntl, action: SendVerifyCode,
		body: []byte(`{"CountryCode":"852","PhoneNum":"` + spelled + `"}`)}
}

func (w *workload) smhBody(action, num, code string) []byte {
	b := `{"Purpose":"BindSuperAdmin","CountryCode":"+86","PhoneNumber":"` + num + `"`
	if w.instance != "" {
		b += `,"InstanceId":"` + w.instance + `"`
	}
	if action == VerifySmsCode {
		b += `,"Code":"` + code + `"`
	}
	return []byte(b + "}")
}

func (w *workload) sendSmsCode(wk *worker) call {
	if wk.lastCN != "" && wk.rng.IntN(100) < 3 {
		return call{service: svcSMH, version: verSMH, action: SendSmsCode, body: w.smhBody(SendSmsCode, wk.lastCN, "")}
	}
	num := cnNumber("139", w.next(spaceSMH))
	wk.lastCN = num
	w.dest("+86" + num)
	f := &flow{key: bookKey(SendSmsCode, "+86"+num), contact: num, wrong: planWrong(wk.rng)}
	w.book.track(f.key)
	return call{service: svcSMH, version: verSMH, action: SendSmsCode, body: w.smhBody(SendSmsCode, num, ""),
		done: func(outcome string) {
			if outcome != "OK" || !push(w.smh, f) {
				w.book.forget(f.key)
			}
		}}
}

func (w *workload) verifySmsCode(wk *worker) call {
	f := pop(w.smh)
	if f == nil {
		// Nothing sent is waiting: a guess for a number that has no code.
		num := cnNumber("135", w.next(spaceUnknown))
		w.dest("+86" + num)
		return call{service: svcSMH, version: verSMH, action: VerifySmsCode, body: w.smhBody(VerifySmsCode, num, guess(wk.rng, "", false))}
	}
	right := f.tries >= f.wrong
	f.tries++
	return call{service: svcSMH, version: verSMH, action: VerifySmsCode,
		body: w.smhBody(VerifySmsCode, f.contact, guess(wk.rng, w.book.code(f.key), right)),
		done: func(string) {
			if right || !push(w.smh, f) {
				w.book.forget(f.key)
			}
		}}
}

func contactBody(typ int, contact, verifyCode string) []byte {
	b := `{"Type":` + strconv.Itoa(typ) + `,"Code":"` + contact + `"`
	if verifyCode != "" {
		b += `,"VerifyCode":"` + verifyCode + `"`
	}
	return []byte(b + "}")
}

func (w *workload) sendContactCode(wk *worker) call {
	n := w.next(spaceContact)
	f := &flow{typ: 2, wrong: planWrong(wk.rng)}
	if wk.rng.IntN(10) < 3 {
		f.typ, f.contact = 1, "+86"+cnNumber("137", n)
	} else {
		f.contact = "u" + strconv.FormatUint(n, 10) + "@loadgen.example.com"
	}
	w.dest(f.contact)
	f.key = bookKey(SendIntlPhoneEmailCode, f.contact)
	w.book.track(f.key)
	return call{service: svcDomain, version: verDomain, action: SendIntlPhoneEmailCode, body: contactBody(f.typ, f.contact, ""),
		done: func(outcome string) {
			if outcome != "OK" || !push(w.contacts, f) {
				w.book.forget(f.key)
			}
		}}
}

func (w *workload) createContact(wk *worker) call {
	f := pop(w.contacts)
	if f == nil {
		addr := "x" + strconv.FormatUint(w.next(spaceUnknown), 10) + "@loadgen.example.com"
		w.dest(addr)
		return call{service: svcDomain, version: verDomain, action: CreateIntlPhoneEmail, body: contactBody(2, addr, guess(wk.rng, "", false))}
	}
	right := f.tries >= f.wrong
	f.tries++
	return call{service: svcDomain, version: verDomain, action: CreateIntlPhoneEmail,
		body: contactBody(f.typ, f.contact, guess(wk.rng, w.book.code(f.key), right)),
		done: func(outcome string) {
			if !right {
				if !push(w.contacts, f) {
					w.book.forget(f.key)
				}
				return
			}
			w.book.forget(f.key)
			if outcome == "OK" {
				push(w.verified, f)
			}
		}}
}

func (w *workload) deleteContact() call {
	f := pop(w.verified)
	if f == nil {
		return w.describeContacts()
	}
	return call{service: svcDomain, version: verDomain, action: DeleteIntlPhoneEmail, body: contactBody(f.typ, f.contact, ""),
		done: func(outcome string) {
			if outcome != "OK" {
				push(w.verified, f) // try again later
			}
		}}
}

func (w *workload) describeContacts() call {
	return call{service: svcDomain, version: verDomain, action: DescribeIntlPhoneEmailList, body: []byte(`{"Limit":20}`)}
}
