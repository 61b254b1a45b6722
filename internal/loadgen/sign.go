package loadgen

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/verifyfn/verifyfn/shared/tcauth"
)

// signedHeaders are the headers the official SDKs sign.
var signedHeaders = []string{"content-type", "host"}

// signer signs requests with TC3-HMAC-SHA256 exactly as the official SDKs
// (and apitest.SignedRequest) do: POST /, Content-Type application/json,
// SignedHeaders content-type;host, the SHA-256 of the body. The derived
// signing key changes once a day per service, so it is cached (the SDKs
// derive it every time; the result is the same).
type signer struct {
	id     string
	secret []byte
	mu     sync.Mutex
	keys   map[[2]string][]byte
}

func newSigner(id, secret string) *signer {
	return &signer{id: id, secret: []byte(secret), keys: map[[2]string][]byte{}}
}

func (s *signer) key(date, service string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{date, service}
	if v, ok := s.keys[k]; ok {
		return v
	}
	v := tcauth.SigningKey(s.secret, date, service)
	s.keys[k] = v
	return v
}

// request builds a signed Tencent API 3.0 request for url (the server's
// base URL) whose Host is host.
func (s *signer) request(ctx context.Context, url, host string, c call, now time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(c.body))
	if err != nil {
		return nil, err
	}
	req.Host = host
	ts := now.Unix()
	h := req.Header
	h["Content-Type"] = []string{"application/json"}
	h["X-Tc-Action"] = []string{c.action}
	h["X-Tc-Version"] = []string{c.version}
	h["X-Tc-Timestamp"] = []string{strconv.FormatInt(ts, 10)}
	h["X-Tc-Language"] = []string{"en-US"}
	date := now.UTC().Format(time.DateOnly)
	canon := tcauth.CanonicalRequest(http.MethodPost, "", signedHeaders, func(name string) string {
		if name == "host" {
			return host
		}
		return h.Get(name)
	}, true, tcauth.HashHex(c.body))
	scope := date + "/" + c.service + "/tc3_request"
	m := hmac.New(sha256.New, s.key(date, c.service))
	m.Write([]byte(tcauth.StringToSign(ts, scope, canon)))
	h["Authorization"] = []string{tcauth.FormatAuthorization(s.id, scope, signedHeaders, m.Sum(nil))}
	return req, nil
}
