package metrics

import (
	"bufio"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// The CloudWatch Embedded Metric Format, as specified in
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html:
// each line is one JSON object (a log event) whose "_aws" member names the
// namespace, the dimension keys and the metrics; the dimension values
// (strings) and the metric values (a number, or an array of at most 100
// numbers) are members of the root object. On Lambda, a line written to
// standard output is such a log event.

// emfMaxValues is the most values a metric array may hold.
const emfMaxValues = 100

// label is one label and its value; labels keep their declared order.
type label struct{ name, value string }

type labels []label

func (ls labels) key() string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.name)
		b.WriteByte(0)
		b.WriteString(l.value)
		b.WriteByte(0)
	}
	return b.String()
}

// emfBuffer keeps what was counted since the last WriteEMF, grouped by label
// set: the metrics of one group share their dimensions and go on one line.
type emfBuffer struct {
	mu     sync.Mutex
	groups map[string]*emfGroup
}

type emfGroup struct {
	labels  labels
	metrics map[string]*emfValue
}

// emfValue is a counter's increase (values nil) or a duration's
// observations.
type emfValue struct {
	count  float64
	values []float64
	timing bool
}

func newEMFBuffer() *emfBuffer { return &emfBuffer{groups: map[string]*emfGroup{}} }

func (b *emfBuffer) value(name string, ls labels) *emfValue {
	k := ls.key()
	g := b.groups[k]
	if g == nil {
		g = &emfGroup{labels: ls, metrics: map[string]*emfValue{}}
		b.groups[k] = g
	}
	v := g.metrics[name]
	if v == nil {
		v = &emfValue{}
		g.metrics[name] = v
	}
	return v
}

func (b *emfBuffer) count(name string, ls labels) {
	b.mu.Lock()
	b.value(name, ls).count++
	b.mu.Unlock()
}

func (b *emfBuffer) observe(name string, ls labels, secs float64) {
	b.mu.Lock()
	v := b.value(name, ls)
	v.timing = true
	v.values = append(v.values, secs)
	b.mu.Unlock()
}

// take empties the buffer and returns what it held.
func (b *emfBuffer) take() map[string]*emfGroup {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.groups
	if len(g) > 0 {
		b.groups = map[string]*emfGroup{}
	}
	return g
}

type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string          `json:"Namespace"`
	Dimensions [][]string      `json:"Dimensions"`
	Metrics    []emfDefinition `json:"Metrics"`
}

type emfDefinition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// WriteEMF writes what was counted since the last call as CloudWatch
// Embedded Metric Format lines, one per label set (more when a duration was
// observed more than 100 times), timestamped now, and forgets it. It writes
// nothing when nothing was counted, or when the metrics were not made with
// Options.EMF. Counters are written as their increase, durations as the
// list of observations in seconds.
func (m *Metrics) WriteEMF(w io.Writer, now time.Time) error {
	if m == nil || m.emf == nil {
		return nil
	}
	groups := m.emf.take()
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	bw := bufio.NewWriter(w)
	for _, k := range keys {
		for _, doc := range groups[k].documents(now) {
			line, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			bw.Write(line)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// documents renders a group as EMF documents: one, or more when a duration
// holds more values than one array may.
func (g *emfGroup) documents(now time.Time) []map[string]any {
	names := make([]string, 0, len(g.metrics))
	for n := range g.metrics {
		names = append(names, n)
	}
	slices.Sort(names)
	dims := make([]string, len(g.labels))
	for i, l := range g.labels {
		dims[i] = l.name
	}
	var docs []map[string]any
	for chunk := 0; ; chunk++ {
		doc := map[string]any{}
		dir := emfDirective{Namespace: Namespace, Dimensions: [][]string{dims}}
		for _, n := range names {
			v := g.metrics[n]
			switch {
			case !v.timing && chunk == 0:
				doc[n] = v.count
				dir.Metrics = append(dir.Metrics, emfDefinition{Name: n, Unit: "Count"})
			case v.timing && chunk*emfMaxValues < len(v.values):
				doc[n] = v.values[chunk*emfMaxValues : min(len(v.values), (chunk+1)*emfMaxValues)]
				dir.Metrics = append(dir.Metrics, emfDefinition{Name: n, Unit: "Seconds"})
			}
		}
		if len(dir.Metrics) == 0 {
			return docs
		}
		for _, l := range g.labels {
			doc[l.name] = l.value
		}
		doc["_aws"] = emfMetadata{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfDirective{dir}}
		docs = append(docs, doc)
	}
}
