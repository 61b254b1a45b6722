package setup

import (
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/router"
)

// priceTable parses a prices mapping: channel (sms, voice) -> country
// calling code or longer prefix ("44", "1876", or "*") -> price per message
// (a non-negative decimal in the budgets' currency).
func (p *parser) priceTable(where string, n *yaml.Node) delivery.Prices {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "%s must map channels (sms, voice) to prices by country code", where)
		return nil
	}
	out := delivery.Prices{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ch := delivery.Channel(k.Value)
		if ch != delivery.SMS && ch != delivery.Voice {
			p.fail(k, "%s: %q is not a priced channel (sms or voice)", where, short(k.Value))
			continue
		}
		if v.Kind != yaml.MappingNode {
			p.fail(v, "%s.%s must map country codes (or \"*\") to prices", where, ch)
			continue
		}
		byPrefix := map[string]int64{}
		for j := 0; j+1 < len(v.Content); j += 2 {
			ck, cv := v.Content[j], v.Content[j+1]
			cc := strings.TrimPrefix(ck.Value, "+")
			if cc == "*" {
				cc = ""
			} else if cc == "" || strings.Trim(cc, "0123456789") != "" || cc[0] == '0' || len(cc) > 15 {
				p.fail(ck, "%s.%s: %q is neither a country calling code such as 44 nor \"*\"", where, ch, short(ck.Value))
				continue
			}
			f, err := strconv.ParseFloat(cv.Value, 64)
			if cv.Kind != yaml.ScalarNode || (cv.ShortTag() != "!!int" && cv.ShortTag() != "!!float") || err != nil || f < 0 || f > 1e6 || math.IsNaN(f) {
				p.fail(cv, "%s.%s.%s must be a price such as 0.05", where, ch, ck.Value)
				continue
			}
			byPrefix[cc] = int64(math.Round(f * 1e6))
		}
		out[ch] = byPrefix
	}
	return out
}

// withoutKey returns the mapping n without key, and the key's value (nil
// when absent).
func withoutKey(n *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return n, nil
	}
	var val *yaml.Node
	cp := *n
	cp.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			val = n.Content[i+1]
			continue
		}
		cp.Content = append(cp.Content, n.Content[i], n.Content[i+1])
	}
	return &cp, val
}

// pricer prices a message by the first provider of its route.
func (p *parser) pricer(r *router.Router) Pricer {
	table, byProvider := p.prices, p.providerPrices
	return func(channel, to string) int64 {
		ch := delivery.Channel(channel)
		if r != nil {
			if ps := r.Providers(delivery.Message{Channel: ch, To: to}); len(ps) > 0 {
				if v, ok := byProvider[ps[0].Name].Lookup(ch, to); ok {
					return v
				}
			}
		}
		if v, ok := table.Lookup(ch, to); ok {
			return v
		}
		v, _ := delivery.DefaultPrices.Lookup(ch, to)
		return v
	}
}
