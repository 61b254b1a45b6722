package acsauth_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/acsauth"
)

// v3Case is what a V3 verifier receives.
type v3Case struct {
	method, host, hashed string
	query                url.Values
	header               http.Header
	auth                 acsauth.ACS3Authorization
}

func signedV3(t *testing.T) v3Case {
	t.Helper()
	headers := goldenV3Headers()
	a, err := acsauth.ParseACS3Authorization(sdkAuthorization("POST", goldenQuery(), headers, acsauth.EmptyPayloadHash, goldenSecret))
	if err != nil {
		t.Fatal(err)
	}
	return v3Case{method: "POST", host: goldenHost, hashed: acsauth.EmptyPayloadHash, query: goldenQuery(), header: httpHeader(headers), auth: a}
}

func (c v3Case) verify(secret string) error {
	err := acsauth.VerifyACS3Request([]byte(secret), c.auth, c.method, c.query, c.host, c.header, c.hashed)
	cr := acsauth.ACS3CanonicalRequest(c.method, c.query, c.host, c.header, c.auth.SignedHeaders, c.hashed)
	if err2 := acsauth.VerifyACS3([]byte(secret), c.auth, cr); !errors.Is(err2, err) {
		return errors.New("VerifyACS3 and VerifyACS3Request disagree")
	}
	return err
}

func TestACS3Tampering(t *testing.T) {
	if err := signedV3(t).verify(goldenSecret); err != nil {
		t.Fatalf("untouched request: %v", err)
	}
	mismatch := map[string]func(c *v3Case){
		"query value":        func(c *v3Case) { c.query.Set("PhoneNumber", "8613800138001") },
		"query value case":   func(c *v3Case) { c.query.Set("Method", "SMS") },
		"extra query param":  func(c *v3Case) { c.query.Set("Extra", "1") },
		"dropped query":      func(c *v3Case) { c.query.Del("Locale") },
		"empty vs missing":   func(c *v3Case) { c.query.Set("Note", "") },
		"signed header":      func(c *v3Case) { c.header.Set("X-Acs-Date", "2024-05-01T08:00:01Z") },
		"action header":      func(c *v3Case) { c.header.Set("X-Acs-Action", "SendChatappMessage") },
		"missing header":     func(c *v3Case) { c.header.Del("X-Acs-Signature-Nonce") },
		"repeated header":    func(c *v3Case) { c.header.Add("X-Acs-Version", "2020-06-06") },
		"host":               func(c *v3Case) { c.host = "evil.example.com" },
		"method":             func(c *v3Case) { c.method = "GET" },
		"payload":            func(c *v3Case) { c.hashed = acsauth.HashPayload([]byte("x")) },
		"fewer signed":       func(c *v3Case) { c.auth.SignedHeaders = c.auth.SignedHeaders[1:] },
		"other signature":    func(c *v3Case) { c.auth.Signature = strings.Repeat("0", 64) },
		"short signature":    func(c *v3Case) { c.auth.Signature = c.auth.Signature[:62] },
		"non-hex signature":  func(c *v3Case) { c.auth.Signature = "zz" + c.auth.Signature[2:] },
		"signature flip bit": func(c *v3Case) { c.auth.Signature = flipHex(c.auth.Signature) },
	}
	for name, mutate := range mismatch {
		c := signedV3(t)
		mutate(&c)
		if err := c.verify(goldenSecret); !errors.Is(err, acsauth.ErrSignatureMismatch) {
			t.Errorf("%s: err = %v, want ErrSignatureMismatch", name, err)
		}
	}
	if err := signedV3(t).verify("wrong"); !errors.Is(err, acsauth.ErrSignatureMismatch) {
		t.Errorf("wrong secret: err = %v", err)
	}
	still := map[string]func(c *v3Case){
		"unsigned header":      func(c *v3Case) { c.header.Set("User-Agent", "other"); c.header.Set("Accept", "*/*") },
		"uppercase hex":        func(c *v3Case) { c.auth.Signature = strings.ToUpper(c.auth.Signature) },
		"padded header value":  func(c *v3Case) { c.header["X-Acs-Action"] = []string{"  GetChatappVerifyCode\t"} },
		"lowercase header key": func(c *v3Case) { c.header["x-acs-date"] = c.header["X-Acs-Date"]; delete(c.header, "X-Acs-Date") },
		"unsorted signed list": func(c *v3Case) {
			l := c.auth.SignedHeaders
			c.auth.SignedHeaders = append([]string{l[len(l)-1]}, l[:len(l)-1]...)
		},
	}
	for name, mutate := range still {
		c := signedV3(t)
		mutate(&c)
		if err := c.verify(goldenSecret); err != nil {
			t.Errorf("%s: err = %v, want nil", name, err)
		}
	}
	c := signedV3(t)
	c.auth.Algorithm = "ACS3-HMAC-SM3"
	if err := c.verify(goldenSecret); !errors.Is(err, acsauth.ErrUnsupportedAlgorithm) {
		t.Errorf("algorithm: err = %v", err)
	}
}

func flipHex(s string) string {
	b := []byte(s)
	if b[0] == '0' {
		b[0] = '1'
	} else {
		b[0] = '0'
	}
	return string(b)
}

func TestRPCTampering(t *testing.T) {
	signed := func() url.Values {
		p := goldenRPCParams()
		acsauth.SignRPC([]byte(goldenSecret), "GET", p)
		return p
	}
	if err := acsauth.VerifyRPC([]byte(goldenSecret), "GET", signed()); err != nil {
		t.Fatalf("untouched: %v", err)
	}
	type mut struct {
		method string
		f      func(p url.Values)
		want   error
	}
	cases := map[string]mut{
		"value":              {"GET", func(p url.Values) { p.Set("PhoneNumber", "8613800138001") }, acsauth.ErrSignatureMismatch},
		"extra param":        {"GET", func(p url.Values) { p.Set("Extra", "") }, acsauth.ErrSignatureMismatch},
		"dropped param":      {"GET", func(p url.Values) { p.Del("Empty") }, acsauth.ErrSignatureMismatch},
		"repeated param":     {"GET", func(p url.Values) { p.Add("Method", "sms") }, acsauth.ErrSignatureMismatch},
		"method":             {"POST", func(url.Values) {}, acsauth.ErrSignatureMismatch},
		"no signature":       {"GET", func(p url.Values) { p.Del("Signature") }, acsauth.ErrMissingSignature},
		"empty signature":    {"GET", func(p url.Values) { p.Set("Signature", "") }, acsauth.ErrMissingSignature},
		"garbage signature":  {"GET", func(p url.Values) { p.Set("Signature", "not base64!") }, acsauth.ErrSignatureMismatch},
		"hex signature":      {"GET", func(p url.Values) { p.Set("Signature", strings.Repeat("a", 40)) }, acsauth.ErrSignatureMismatch},
		"two signatures":     {"GET", func(p url.Values) { p.Add("Signature", p.Get("Signature")) }, acsauth.ErrSignatureMismatch},
		"unpadded signature": {"GET", func(p url.Values) { p.Set("Signature", strings.TrimRight(p.Get("Signature"), "=")) }, acsauth.ErrSignatureMismatch},
	}
	for name, c := range cases {
		p := signed()
		c.f(p)
		if err := acsauth.VerifyRPC([]byte(goldenSecret), c.method, p); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
	if err := acsauth.VerifyRPC([]byte("wrong"), "GET", signed()); !errors.Is(err, acsauth.ErrSignatureMismatch) {
		t.Errorf("wrong secret: err = %v", err)
	}
	// A client that forgets to escape '+' in the signature sends a space.
	for i := 0; ; i++ {
		p := goldenRPCParams()
		p.Set("SignatureNonce", strconv.Itoa(i))
		acsauth.SignRPC([]byte(goldenSecret), "GET", p)
		sig := p.Get("Signature")
		if !strings.Contains(sig, "+") {
			continue
		}
		p.Set("Signature", strings.ReplaceAll(sig, "+", " "))
		if err := acsauth.VerifyRPC([]byte(goldenSecret), "GET", p); err != nil {
			t.Fatalf("space for '+': %v", err)
		}
		break
	}
}

func TestParseACS3AuthorizationMalformed(t *testing.T) {
	const sig = "d9a5407bc9d1194cf75379fa0250fae6e129ba46da68b0180b9d4f940ac73691"
	const good = "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=" + sig
	if a, err := acsauth.ParseACS3Authorization(good); err != nil || a.AccessKeyID != "AK" || len(a.SignedHeaders) != 2 {
		t.Fatalf("good header: %+v, %v", a, err)
	}
	if _, err := acsauth.ParseACS3Authorization("ACS3-HMAC-SHA256 Signature=" + sig + ",Credential=AK,SignedHeaders=host"); err != nil {
		t.Fatalf("any order: %v", err)
	}
	many := make([]string, acsauth.MaxSignedHeaders+1)
	for i := range many {
		many[i] = "x-acs-h" + strconv.Itoa(i)
	}
	for name, h := range map[string]string{
		"empty":               "",
		"space":               " ",
		"algorithm only":      "ACS3-HMAC-SHA256",
		"algorithm space":     "ACS3-HMAC-SHA256 ",
		"leading space":       " " + good,
		"trailing space":      good + " ",
		"two spaces":          strings.Replace(good, " ", "  ", 1),
		"space after comma":   strings.ReplaceAll(good, ",", ", "),
		"tab":                 strings.Replace(good, " ", "\t", 1),
		"newline":             good + "\n",
		"lowercase algorithm": strings.Replace(good, "ACS3-HMAC-SHA256", "acs3-hmac-sha256", 1),
		"other scheme":        strings.Replace(good, "ACS3-HMAC-SHA256", "TC3-HMAC-SHA256", 1),
		"bearer":              "Bearer abc",
		"no credential":       "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=" + sig,
		"no signed headers":   "ACS3-HMAC-SHA256 Credential=AK,Signature=" + sig,
		"no signature":        "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host",
		"empty credential":    strings.Replace(good, "Credential=AK", "Credential=", 1),
		"empty signed":        strings.Replace(good, "SignedHeaders=host;x-acs-date", "SignedHeaders=", 1),
		"empty signature":     strings.Replace(good, sig, "", 1),
		"no equals":           strings.Replace(good, "Credential=AK", "CredentialAK", 1),
		"duplicate key":       strings.Replace(good, "SignedHeaders=host;x-acs-date", "Credential=AK", 1),
		"unknown key":         strings.Replace(good, "Credential=AK", "Creds=AK", 1),
		"key case":            strings.Replace(good, "Credential=AK", "credential=AK", 1),
		"extra part":          good + ",Foo=bar",
		"trailing comma":      good + ",",
		"leading comma":       "ACS3-HMAC-SHA256 ," + good[len("ACS3-HMAC-SHA256 "):],
		"short signature":     good[:len(good)-1],
		"long signature":      good + "0",
		"non-hex signature":   strings.Replace(good, sig[:2], "zz", 1),
		"uppercase header":    strings.Replace(good, "host;", "Host;", 1),
		"empty header name":   strings.Replace(good, "host;", "host;;", 1),
		"trailing semicolon":  strings.Replace(good, "x-acs-date,", "x-acs-date;,", 1),
		"duplicate header":    strings.Replace(good, "host;x-acs-date", "host;host", 1),
		"header with colon":   strings.Replace(good, "host;", "ho:st;", 1),
		"too many headers":    strings.Replace(good, "host;x-acs-date", strings.Join(many, ";"), 1),
		"equals in AK":        strings.Replace(good, "Credential=AK", "Credential=A=K", 1),
		"non-ASCII AK":        strings.Replace(good, "Credential=AK", "Credential=AK中", 1),
		"control char":        strings.Replace(good, "Credential=AK", "Credential=A\x01K", 1),
	} {
		a, err := acsauth.ParseACS3Authorization(h)
		if !errors.Is(err, acsauth.ErrMalformed) {
			t.Errorf("%s: %q parsed as %+v, %v", name, h, a, err)
		}
		if errors.Is(err, acsauth.ErrUnsupportedAlgorithm) {
			t.Errorf("%s: unexpected ErrUnsupportedAlgorithm", name)
		}
	}
	for _, alg := range []string{"ACS3-HMAC-SM3", "ACS3-RSA-SHA256"} {
		_, err := acsauth.ParseACS3Authorization(strings.Replace(good, "ACS3-HMAC-SHA256", alg, 1))
		if !errors.Is(err, acsauth.ErrUnsupportedAlgorithm) || !errors.Is(err, acsauth.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrUnsupportedAlgorithm wrapping ErrMalformed", alg, err)
		}
	}
}
