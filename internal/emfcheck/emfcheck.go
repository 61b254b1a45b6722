// Package emfcheck checks CloudWatch Embedded Metric Format documents
// against the specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
// and reads their values, for tests of the EMF lines verifyfn writes on AWS
// Lambda.
package emfcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Units are the CloudWatch metric units a MetricDefinition may name.
var Units = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true, "Megabytes": true,
	"Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true,
	"Terabits": true, "Percent": true, "Count": true, "Bytes/Second": true, "Kilobytes/Second": true,
	"Megabytes/Second": true, "Gigabytes/Second": true, "Terabytes/Second": true, "Bits/Second": true,
	"Kilobits/Second": true, "Megabits/Second": true, "Gigabits/Second": true, "Terabits/Second": true,
	"Count/Second": true, "None": true,
}

// Limits of the specification.
const (
	MaxDimensions = 30  // dimension keys in one DimensionSet
	MaxMetrics    = 100 // MetricDefinitions in one MetricDirective
	MaxValues     = 100 // values in one metric array
	MaxNameLen    = 255 // a namespace, dimension or metric name
	MaxEventBytes = 1 << 20
)

// Metric is one metric of a document with its dimensions and values.
type Metric struct {
	Namespace  string
	Name       string
	Unit       string
	Dimensions map[string]string // the dimension keys of its first DimensionSet and their values
	Values     []float64         // one value, or the array
	Timestamp  int64             // _aws.Timestamp, milliseconds since the epoch
}

// Parse checks one log event (a line without its newline) and returns its
// metrics. The checks are the specification's MUSTs: the event is one JSON
// object with nothing around it; _aws is an object with an integer
// Timestamp and a non-empty CloudWatchMetrics array; each MetricDirective
// has exactly Namespace (1 to 255 characters), Dimensions (an array of
// DimensionSets, each at most 30 keys naming root members with non-empty
// string values) and Metrics (at most 100 definitions, each a Name naming a
// root member that is a number or an array of at most 100 numbers, and an
// optional CloudWatch Unit).
func Parse(event []byte) ([]Metric, error) {
	if len(event) > MaxEventBytes {
		return nil, fmt.Errorf("event of %d bytes", len(event))
	}
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var root map[string]json.RawMessage
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() || len(bytes.TrimSpace(event[dec.InputOffset():])) > 0 {
		return nil, errors.New("data after the JSON object")
	}
	rawAWS, ok := root["_aws"]
	if !ok {
		return nil, errors.New("no _aws member")
	}
	var aws map[string]json.RawMessage
	if err := json.Unmarshal(rawAWS, &aws); err != nil {
		return nil, fmt.Errorf("_aws is not an object: %w", err)
	}
	var ts json.Number
	if err := strictUnmarshal(aws["Timestamp"], &ts); err != nil {
		return nil, fmt.Errorf("_aws.Timestamp: %w", err)
	}
	millis, err := ts.Int64()
	if err != nil || millis < 0 {
		return nil, fmt.Errorf("_aws.Timestamp %s is not a count of milliseconds", ts)
	}
	var directives []json.RawMessage
	if err := json.Unmarshal(aws["CloudWatchMetrics"], &directives); err != nil || len(directives) == 0 {
		return nil, errors.New("_aws.CloudWatchMetrics is not a non-empty array")
	}
	var out []Metric
	for i, raw := range directives {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("directive %d is not an object", i)
		}
		for k := range d {
			if k != "Namespace" && k != "Dimensions" && k != "Metrics" {
				return nil, fmt.Errorf("directive %d has the member %q", i, k)
			}
		}
		var ns string
		if err := strictUnmarshal(d["Namespace"], &ns); err != nil || ns == "" || len(ns) > MaxNameLen {
			return nil, fmt.Errorf("directive %d: Namespace %q", i, ns)
		}
		var sets [][]string
		if err := strictUnmarshal(d["Dimensions"], &sets); err != nil || len(sets) == 0 {
			return nil, fmt.Errorf("directive %d: Dimensions is not an array of DimensionSets", i)
		}
		for _, set := range sets {
			if len(set) > MaxDimensions {
				return nil, fmt.Errorf("directive %d: a DimensionSet of %d keys", i, len(set))
			}
			for _, k := range set {
				var v string
				if err := strictUnmarshal(root[k], &v); err != nil || v == "" || len(k) > MaxNameLen {
					return nil, fmt.Errorf("directive %d: dimension %q is not a root member with a non-empty string value", i, k)
				}
			}
		}
		var defs []map[string]string
		if err := strictUnmarshal(d["Metrics"], &defs); err != nil || len(defs) > MaxMetrics {
			return nil, fmt.Errorf("directive %d: Metrics is not an array of at most %d definitions", i, MaxMetrics)
		}
		dims := map[string]string{}
		for _, k := range sets[0] {
			var v string
			json.Unmarshal(root[k], &v)
			dims[k] = v
		}
		for _, def := range defs {
			name, unit := def["Name"], def["Unit"]
			if name == "" || len(name) > MaxNameLen {
				return nil, fmt.Errorf("directive %d: a metric without a Name", i)
			}
			for k := range def {
				if k != "Name" && k != "Unit" && k != "StorageResolution" {
					return nil, fmt.Errorf("metric %s: member %q", name, k)
				}
			}
			if unit != "" && !Units[unit] {
				return nil, fmt.Errorf("metric %s: unit %q", name, unit)
			}
			values, err := numbers(root[name])
			if err != nil {
				return nil, fmt.Errorf("metric %s: %w", name, err)
			}
			out = append(out, Metric{Namespace: ns, Name: name, Unit: unit, Dimensions: dims, Values: values, Timestamp: millis})
		}
	}
	return out, nil
}

// numbers reads a metric target: a number or an array of at most 100
// numbers.
func numbers(raw json.RawMessage) ([]float64, error) {
	if raw == nil {
		return nil, errors.New("no root member")
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return []float64{one}, finite(one)
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.New("neither a number nor an array of numbers")
	}
	if len(many) == 0 || len(many) > MaxValues {
		return nil, fmt.Errorf("an array of %d values", len(many))
	}
	for _, v := range many {
		if err := finite(v); err != nil {
			return nil, err
		}
	}
	return many, nil
}

func finite(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return errors.New("not a finite number")
	}
	return nil
}

// strictUnmarshal is json.Unmarshal of a member that must be present.
func strictUnmarshal(raw json.RawMessage, v any) error {
	if raw == nil {
		return errors.New("missing")
	}
	return json.Unmarshal(raw, v)
}

// Sum adds up the values of the metrics named name whose dimensions include
// every pair of want, over every event.
func Sum(metrics []Metric, name string, want map[string]string) (sum float64, n int) {
	for _, m := range metrics {
		if m.Name != name || !matches(m.Dimensions, want) {
			continue
		}
		for _, v := range m.Values {
			sum += v
			n++
		}
	}
	return sum, n
}

func matches(dims, want map[string]string) bool {
	for k, v := range want {
		if dims[k] != v {
			return false
		}
	}
	return true
}
