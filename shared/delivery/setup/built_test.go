package setup_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/delivery/setup"
)

// TestBuiltProviders runs in every build: the default one has every type;
// one built with -tags verifyfn_providers,provider_<name>... has the outbox
// and the named ones, and refuses a configuration using any other type by
// naming it and the tag that builds it.
func TestBuiltProviders(t *testing.T) {
	built, all := setup.Built(), setup.Types()
	if !slices.Contains(built, "outbox") {
		t.Fatalf("Built() = %v: the outbox is always built", built)
	}
	if len(all) != 7 {
		t.Fatalf("Types() = %v", all)
	}
	for _, typ := range built {
		if !slices.Contains(all, typ) {
			t.Fatalf("Built() has %q, not in Types() %v", typ, all)
		}
	}
	cfg := baseConfig(t)
	cfg.Delivery.YAML = fullYAML
	_, closer, err := setup.New(cfg, setup.Options{LookupEnv: secrets.lookup})
	if len(built) == len(all) {
		if err != nil {
			t.Fatalf("every provider is built, yet: %v", err)
		}
		closer.Close()
		return
	}
	if err == nil {
		closer.Close()
		t.Fatalf("built with %v only, the full configuration was accepted", built)
	}
	msg := err.Error()
	for _, typ := range all {
		refused := strings.Contains(msg, "type "+typ+" is not built into this binary")
		if refused == slices.Contains(built, typ) {
			t.Errorf("type %s (built: %v): refused %v in %q", typ, slices.Contains(built, typ), refused, msg)
		}
	}
	tags := map[string]string{"tencent_sms": "provider_tencent_sms", "aliyun_sms": "provider_aliyun_sms",
		"twilio_sms": "provider_twilio", "twilio_voice": "provider_twilio", "smtp": "provider_smtp", "webhook": "provider_webhook"}
	for typ, tag := range tags {
		if !slices.Contains(built, typ) && !strings.Contains(msg, "-tags verifyfn_providers,"+tag) {
			t.Errorf("the error does not name %s's tag %s: %q", typ, tag, msg)
		}
	}
}
