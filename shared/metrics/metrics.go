// Package metrics counts what verifyfn does, for operators: the requests of
// every action and their answers, the messages each provider delivered or
// failed, the outcome of code checks, the fraud guard's refusals, and the
// time spent in the store and in each provider.
//
// A Metrics holds a Prometheus registry of its own (nothing is registered
// with the default registry, nothing happens at init). Handler serves it
// with the health checks on a listener of its own (VERIFYFN_METRICS_ADDR);
// on AWS Lambda, where nothing scrapes, New(Options{EMF: true}) also keeps
// what an invocation counted for WriteEMF, which writes it as CloudWatch
// Embedded Metric Format lines.
//
// The hooks are small and declared by their callers: ObserveRequest is the
// front doors' Observer (tcapi, acsapi), ObserveDelivery the delivery
// Observer, Checked the code engine's hook, Store a decorator of the store,
// GuardRefused the fraud guard's. Every method is safe on a nil *Metrics
// (it does nothing), and safe for concurrent use.
//
// Labels are bounded, and never carry a number, an address, a code, a
// secret or a request id: service and action are the routed names (a name
// the front door does not define is "unknown"), code is the answer's code
// from the documented set, channel and provider come from the configuration,
// country is the ISO 3166 region of a phone number as libphonenumber finds
// it ("001" for the non-geographic codes, "none" for email), and reasons and
// outcomes come from fixed lists.
package metrics

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/verifyfn/verifyfn/shared/contact"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/otp"
)

// Metric names.
const (
	Requests         = "verifyfn_requests_total"
	RequestDuration  = "verifyfn_request_duration_seconds"
	Messages         = "verifyfn_messages_total"
	Checks           = "verifyfn_checks_total"
	GuardRefusals    = "verifyfn_guard_refusals_total"
	StoreDuration    = "verifyfn_store_duration_seconds"
	StoreErrors      = "verifyfn_store_errors_total"
	ProviderDuration = "verifyfn_provider_duration_seconds"
)

// Unknown is the service or action label of a request that named none the
// front door defines (or was refused before it said).
const Unknown = "unknown"

// Outcomes of a delivery attempt (verifyfn_messages_total,
// verifyfn_provider_duration_seconds).
const (
	Delivered = "delivered"
	Failed    = "failed"
)

// Outcomes of a code check (verifyfn_checks_total).
// They are the code engine's verdicts.
const (
	Verified  = otp.Verified  // the code matched and was consumed
	Wrong     = otp.Wrong     // a wrong code, attempts left
	Expired   = otp.Expired   // no live code: expired, used, never sent or revoked
	Exhausted = otp.Exhausted // the attempt cap is reached: the code is burned
)

// Reasons of a fraud-guard refusal (verifyfn_guard_refusals_total). Any
// other reason is counted as ReasonOther.
const (
	ReasonNumberType     = "number_type"     // premium, toll free, ... or a number that cannot take an SMS
	ReasonPrefixVelocity = "prefix_velocity" // too many sends to one number range
	ReasonConversion     = "conversion"      // the country's or range's conversion collapsed
	ReasonBudget         = "budget"          // the account's spend budget is used up
	ReasonOther          = "other"
)

// Namespace is the CloudWatch namespace of the EMF lines.
const Namespace = "verifyfn"

// Options configure New.
type Options struct {
	// EMF keeps what is counted between two WriteEMF calls, for AWS Lambda.
	EMF bool
}

// Metrics is one app's metrics.
type Metrics struct {
	reg              *prometheus.Registry
	requests         *prometheus.CounterVec
	requestDuration  *prometheus.HistogramVec
	messages         *prometheus.CounterVec
	checks           *prometheus.CounterVec
	guardRefusals    *prometheus.CounterVec
	storeDuration    *prometheus.HistogramVec
	storeErrors      *prometheus.CounterVec
	providerDuration *prometheus.HistogramVec
	storeSeries      map[string]storeSeries // per store op, bound once
	emf              *emfBuffer             // nil unless Options.EMF
}

// storeSeries are the two series of one store operation.
type storeSeries struct {
	duration prometheus.Observer
	errors   prometheus.Counter
}

// Buckets of the duration histograms, in seconds: a request and a store
// operation take well under a millisecond to a few, a provider a few
// hundred milliseconds to its timeout.
var (
	requestBuckets  = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	storeBuckets    = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
	providerBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

// New returns metrics with a registry of their own, which also holds the Go
// runtime's and the process's collectors.
func New(o Options) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: Requests,
			Help: "API requests answered, by service, action (unknown: none the front door defines) and answer code (OK or the error code)."},
			[]string{"service", "action", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: RequestDuration,
			Help: "Time from a request's arrival to its answer, by service and action.", Buckets: requestBuckets},
			[]string{"service", "action"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: Messages,
			Help: "Delivery attempts, one per provider tried: channel, provider, the destination's ISO region (none for email) and outcome (delivered, failed)."},
			[]string{"channel", "provider", "country", "outcome"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: Checks,
			Help: "Code checks the store answered, by service and outcome (verified, wrong, expired, exhausted)."},
			[]string{"service", "outcome"}),
		guardRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: GuardRefusals,
			Help: "Sends the fraud guard refused, by reason and the destination's ISO region."},
			[]string{"reason", "country"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: StoreDuration,
			Help: "Time of each store operation, by operation.", Buckets: storeBuckets},
			[]string{"op"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: StoreErrors,
			Help: "Store operations that failed (the store was unavailable), by operation."},
			[]string{"op"}),
		providerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: ProviderDuration,
			Help: "Time of each delivery attempt, by provider and outcome (delivered, failed).", Buckets: providerBuckets},
			[]string{"provider", "outcome"}),
	}
	m.reg.MustRegister(m.requests, m.requestDuration, m.messages, m.checks, m.guardRefusals,
		m.storeDuration, m.storeErrors, m.providerDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.storeSeries = map[string]storeSeries{}
	for _, op := range []string{OpIssue, OpRevoke, OpCheck, OpAllow, OpClaim, OpGet, OpList, OpApply, OpPing, OpReset} {
		m.storeSeries[op] = storeSeries{m.storeDuration.WithLabelValues(op), m.storeErrors.WithLabelValues(op)}
	}
	if o.EMF {
		m.emf = newEMFBuffer()
	}
	return m
}

// Registry is the registry the metrics are in (to gather them, or to add a
// collector).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveRequest counts one answered request: the service and action as the
// front door routed them ("" for none), the answer's code, and how long it
// took. It implements the front doors' Observer.
func (m *Metrics) ObserveRequest(service, action, code string, elapsed time.Duration) {
	if m == nil {
		return
	}
	service, action, code = or(service, Unknown), or(action, Unknown), or(code, Unknown)
	secs := elapsed.Seconds()
	m.requests.WithLabelValues(service, action, code).Inc()
	m.requestDuration.WithLabelValues(service, action).Observe(secs)
	if m.emf != nil {
		m.emf.count(Requests, labels{{"service", service}, {"action", action}, {"code", code}})
		m.emf.observe(RequestDuration, labels{{"service", service}, {"action", action}}, secs)
	}
}

// ObserveDelivery counts one provider's attempt at msg: how long it took and
// its error (nil: delivered). It implements delivery.Observer.
func (m *Metrics) ObserveDelivery(_ context.Context, msg delivery.Message, provider string, elapsed time.Duration, err error) {
	if m == nil {
		return
	}
	outcome := Delivered
	if err != nil {
		outcome = Failed
	}
	channel, provider, country := or(string(msg.Channel), Unknown), or(provider, Unknown), Region(msg)
	secs := elapsed.Seconds()
	m.messages.WithLabelValues(channel, provider, country, outcome).Inc()
	m.providerDuration.WithLabelValues(provider, outcome).Observe(secs)
	if m.emf != nil {
		m.emf.count(Messages, labels{{"channel", channel}, {"provider", provider}, {"country", country}, {"outcome", outcome}})
		m.emf.observe(ProviderDuration, labels{{"provider", provider}, {"outcome", outcome}}, secs)
	}
}

// Checked counts one code check of service with its outcome (Verified,
// Wrong, Expired or Exhausted; anything else is ignored). It is the code
// engine's hook (otp.Config.Checked).
func (m *Metrics) Checked(service, outcome string) {
	if m == nil {
		return
	}
	switch outcome {
	case Verified, Wrong, Expired, Exhausted:
	default:
		return
	}
	service = or(service, Unknown)
	m.checks.WithLabelValues(service, outcome).Inc()
	if m.emf != nil {
		m.emf.count(Checks, labels{{"service", service}, {"outcome", outcome}})
	}
}

// GuardRefused counts one send the fraud guard refused, with its reason (one
// of the Reason constants; any other is counted as ReasonOther) and the
// destination's region (contact.Phone.Region: an ISO 3166 code or "001";
// anything else is counted as UnknownCountry).
func (m *Metrics) GuardRefused(reason, region string) {
	if m == nil {
		return
	}
	switch reason {
	case ReasonNumberType, ReasonPrefixVelocity, ReasonConversion, ReasonBudget:
	default:
		reason = ReasonOther
	}
	if !isRegion(region) {
		region = UnknownCountry
	}
	m.guardRefusals.WithLabelValues(reason, region).Inc()
	if m.emf != nil {
		m.emf.count(GuardRefusals, labels{{"reason", reason}, {"country", region}})
	}
}

// storeOp records one store operation.
func (m *Metrics) storeOp(op string, elapsed time.Duration, err error) {
	secs := elapsed.Seconds()
	series, ok := m.storeSeries[op]
	if !ok {
		series = storeSeries{m.storeDuration.WithLabelValues(op), m.storeErrors.WithLabelValues(op)}
	}
	series.duration.Observe(secs)
	if err != nil {
		series.errors.Inc()
	}
	if m.emf != nil {
		m.emf.observe(StoreDuration, labels{{"op", op}}, secs)
		if err != nil {
			m.emf.count(StoreErrors, labels{{"op", op}})
		}
	}
}

// Country labels that are no region: NoCountry for an email, UnknownCountry
// for a destination that is not a valid phone number.
const (
	NoCountry      = "none"
	UnknownCountry = "ZZ"
)

// Region is the country label of a message: the region the service found
// when it parsed the number (Message.Region, from libphonenumber); for a
// message without one, the ISO 3166 region of its calling code ("001" for
// the non-geographic codes such as +800) or, for a calling code that
// several regions share (+1, +7, +44, ...), the region libphonenumber finds
// for the whole number. NoCountry for an email, UnknownCountry for anything
// that is not a number of a known calling code. (Labels are never empty:
// CloudWatch refuses an empty dimension value.)
func Region(msg delivery.Message) string {
	if msg.Channel == delivery.Email {
		return NoCountry
	}
	if isRegion(msg.Region) {
		return msg.Region
	}
	if digits, ok := strings.CutPrefix(msg.To, "+"); ok {
		for n := 1; n <= 3 && n <= len(digits); n++ {
			cc, err := strconv.Atoi(digits[:n])
			if err != nil {
				break
			}
			if regions := phonenumbers.GetRegionCodesForCountryCode(cc); len(regions) == 1 {
				return regions[0]
			} else if len(regions) > 1 {
				break // calling codes are prefix-free: this is the number's
			}
		}
	}
	p, err := contact.ParsePhone("", msg.To)
	if err != nil {
		return UnknownCountry
	}
	return p.Region()
}

// isRegion reports whether s has the form of a region label: two capital
// letters, or "001".
func isRegion(s string) bool {
	if s == "001" {
		return true
	}
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
