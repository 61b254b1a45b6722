package tcapi_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// TestAddressEndpoint covers clients pointed at an address such as
// 127.0.0.1:PORT rather than a product host. The Node SDKs sign the host
// without its port while they send host:port, and name the credential scope
// after the endpoint's first label ("127"). Those requests pass; every
// request that fails for another reason still fails with the same code.
func TestAddressEndpoint(t *testing.T) {
	s := apitest.Start(t)
	hostname, port, _ := strings.Cut(s.Host, ":")
	if port == "" {
		t.Fatalf("test server host %q has no port", s.Host)
	}
	n := 0
	base := func() apitest.SignedRequest {
		n++
		sr := signed(s)
		sr.Body = []byte(`{"CountryCode":"852","PhoneNum":"6123456` + strconv.Itoa(n) + `"}`)
		return sr
	}
	cases := []struct {
		name string
		edit func(*apitest.SignedRequest)
		want string
	}{
		// What passes: each documented way a client signs an address.
		{"host with port, product scope", func(*apitest.SignedRequest) {}, ""},
		{"host without port, product scope", func(sr *apitest.SignedRequest) { sr.SignedHost = hostname }, ""},
		{"host without port, address scope (Node SDK)", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service = hostname, "127"
		}, ""},
		{"host with port, address scope", func(sr *apitest.SignedRequest) { sr.Service = "127" }, ""},

		// What still fails, for the reason it failed before.
		{"host without port, wrong secret", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service, sr.SecretKey, sr.SecretID = hostname, "127", "not-the-secret", accounts.DevSecretID
		}, tcapi.CodeSignatureFailure},
		{"another host without port", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service = "127.0.0.2", "127"
		}, tcapi.CodeSignatureFailure},
		{"same host, another port", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service = hostname+":1", "127"
		}, tcapi.CodeSignatureFailure},
		{"address scope signed for another date", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service, sr.Date = hostname, "127", "2001-01-01"
		}, tcapi.CodeSignatureFailure},
		{"address scope, unknown SecretId", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service, sr.SecretID = hostname, "127", "AKIDUNKNOWN000000000000000000000000"
		}, tcapi.CodeSecretIDNotFound},
		{"address scope, expired timestamp", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service = hostname, "127"
			sr.Timestamp -= 301
		}, tcapi.CodeSignatureExpire},
		{"address scope, unknown action", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service, sr.Action = hostname, "127", "DescribeInstances"
		}, tcapi.CodeInvalidAction},
		{"address scope, wrong version", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service, sr.Version = hostname, "127", "2017-03-12"
		}, tcapi.CodeNoSuchVersion},
		{"product scope of another service", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service = hostname, "smh"
		}, tcapi.CodeInvalidAction},
		{"scope naming a product we do not serve", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service = hostname, "cvm"
		}, tcapi.CodeInvalidAction},
		{"scope naming another address", func(sr *apitest.SignedRequest) {
			sr.SignedHost, sr.Service = hostname, "10"
		}, tcapi.CodeInvalidAction},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sr := base()
			c.edit(&sr)
			if got := apitest.Do(t, sr.Build(t)).Code(); got != c.want {
				t.Errorf("code %q, want %q", got, c.want)
			}
		})
	}
}

// TestNamedEndpoint: a client pointed at localhost:PORT names its scope
// "localhost:PORT" (the endpoint has no dot, so its first label keeps the
// port) and signs host "localhost".
func TestNamedEndpoint(t *testing.T) {
	s := apitest.Start(t)
	_, port, _ := strings.Cut(s.Host, ":")
	for i, c := range []struct{ scope, want string }{
		{"localhost:" + port, ""},
		{"localhost:1", tcapi.CodeInvalidAction},
		{"localhost", tcapi.CodeInvalidAction},
		{"127", tcapi.CodeInvalidAction},
	} {
		sr := signed(s)
		sr.Body = []byte(`{"CountryCode":"852","PhoneNum":"6223456` + strconv.Itoa(i) + `"}`)
		sr.SignedHost, sr.Service = "localhost", c.scope
		r := sr.Build(t)
		r.Host = "localhost:" + port
		if got := apitest.Do(t, r).Code(); got != c.want {
			t.Errorf("scope %q: code %q, want %q", c.scope, got, c.want)
		}
	}
	// Port 80 is not sent in Host, but stays in the scope.
	sr := signed(s)
	sr.Body = []byte(`{"CountryCode":"852","PhoneNum":"62234569"}`)
	sr.SignedHost, sr.Service = "localhost", "localhost:80"
	r := sr.Build(t)
	r.Host = "localhost"
	if got := apitest.Do(t, r).Code(); got != "" {
		t.Errorf("scope localhost:80 with Host localhost: code %q", got)
	}
}

// TestAddressScopeOnProductHost: a scope that names no product is accepted
// only when the client called an address; on a product host the scope must
// name that product, as before.
func TestAddressScopeOnProductHost(t *testing.T) {
	s := apitest.Start(t)
	for _, scope := range []string{"127", "smh", "intlpartnersmgt-x"} {
		sr := signed(s)
		sr.Host, sr.Service = "intlpartnersmgt.tencentcloudapi.com", scope
		r := sr.Build(t)
		r.URL.Host = s.Host // sent to the test server, Host header kept
		if got := apitest.Do(t, r).Code(); got != tcapi.CodeSignatureFailure {
			t.Errorf("scope %q on the intlpartnersmgt host: %q, want %s", scope, got, tcapi.CodeSignatureFailure)
		}
	}
	// The product's own scope on its host passes.
	sr := signed(s)
	sr.Host = "intlpartnersmgt.tencentcloudapi.com"
	r := sr.Build(t)
	r.URL.Host = s.Host
	if got := apitest.Do(t, r).Code(); got != "" {
		t.Errorf("product scope on the product host: %q", got)
	}
}
