package hardening_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/verifyfn/verifyfn/internal/apitest"
)

// Services and versions.
const (
	smhService    = "smh"
	smhVersion    = "2021-07-12"
	intlService   = "intlpartnersmgt"
	intlVersion   = "2022-09-28"
	domainService = "domain"
	domainVersion = "2018-08-08"
)

// api is one Tencent action of the server under test.
type api struct {
	service, version, action string
}

var (
	sendSmsCode      = api{smhService, smhVersion, "SendSmsCode"}
	verifySmsCode    = api{smhService, smhVersion, "VerifySmsCode"}
	sendVerifyCode   = api{intlService, intlVersion, "SendVerifyCode"}
	sendContactCode  = api{domainService, domainVersion, "SendIntlPhoneEmailCode"}
	createContact    = api{domainService, domainVersion, "CreateIntlPhoneEmail"}
	deleteContact    = api{domainService, domainVersion, "DeleteIntlPhoneEmail"}
	describeContacts = api{domainService, domainVersion, "DescribeIntlPhoneEmailList"}
)

// request builds a TC3-signed request for a at the server's current time,
// signed with the development credential.
func request(tb testing.TB, s *apitest.Server, a api, params map[string]any) *http.Request {
	tb.Helper()
	return requestAs(tb, s, "", "", a, params)
}

// requestAs is request signed with the credential id and secret.
func requestAs(tb testing.TB, s *apitest.Server, id, secret string, a api, params map[string]any) *http.Request {
	tb.Helper()
	body, err := json.Marshal(params)
	if err != nil {
		tb.Fatal(err)
	}
	return apitest.SignedRequest{
		Host: s.Host, Service: a.service, Action: a.action, Version: a.version, Body: body, Timestamp: s.Clock.Now().Unix(),
		SecretID: id, SecretKey: secret,
	}.Build(tb)
}

// answer is a raw response: what an enumerating caller can see.
type answer struct {
	Status      int
	ContentType string
	Length      string
	Body        string
	Code        string // the error code, "" on success
	ID          string // the RequestId
}

// Normalized is the answer with every occurrence of its RequestId (the
// Alibaba envelope repeats it in Recommend) replaced by a placeholder: two
// answers that differ only in the RequestId have equal Normalized values.
func (a answer) Normalized() answer {
	a.Body = strings.ReplaceAll(a.Body, a.ID, "<id>")
	a.ID = ""
	return a
}

// roundTrip sends req with client and reads the answer. It does not touch
// tb, so it may run in any goroutine.
func roundTrip(client *http.Client, req *http.Request) (answer, error) {
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	var env apitest.Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return answer{}, fmt.Errorf("not a Tencent envelope: %q", b)
	}
	if env.Response.RequestID == "" {
		return answer{}, fmt.Errorf("no RequestId: %q", b)
	}
	return answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Length: resp.Header.Get("Content-Length"),
		Body: string(b), Code: env.Code(), ID: env.Response.RequestID}, nil
}

// call sends one request and returns its answer.
func call(tb testing.TB, s *apitest.Server, a api, params map[string]any) answer {
	tb.Helper()
	return callAs(tb, s, "", "", a, params)
}

// callAs is call signed with the credential id and secret.
func callAs(tb testing.TB, s *apitest.Server, id, secret string, a api, params map[string]any) answer {
	tb.Helper()
	ans, err := roundTrip(http.DefaultClient, requestAs(tb, s, id, secret, a, params))
	if err != nil {
		tb.Fatalf("%s: %v", a.action, err)
	}
	if ans.Status != http.StatusOK || ans.ContentType != "application/json" {
		tb.Fatalf("%s: status %d, Content-Type %q", a.action, ans.Status, ans.ContentType)
	}
	return ans
}

// mustOK sends a request that must succeed.
func mustOK(tb testing.TB, s *apitest.Server, a api, params map[string]any) {
	tb.Helper()
	if ans := call(tb, s, a, params); ans.Code != "" {
		tb.Fatalf("%s %v: %s", a.action, params, ans.Body)
	}
}

// parallel sends every request over conns connections of their own (one
// transport each, so there are exactly conns TCP connections), all starting
// together, and counts the answers by error code ("" for success).
func parallel(tb testing.TB, reqs []*http.Request, conns int) map[string]int {
	tb.Helper()
	work := make(chan *http.Request, len(reqs))
	for _, r := range reqs {
		work <- r
	}
	close(work)
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		errs   []error
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			<-start
			for r := range work {
				ans, err := roundTrip(client, r)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					counts[ans.Code]++
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		tb.Error(err)
	}
	if len(errs) > 0 {
		tb.FailNow()
	}
	return counts
}
