package sdkcompat_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// Every Tencent golden test calls smh SendSmsCode (2021-07-12), which every
// mainland SDK generates, with Purpose ChannelUpdateVerify (any mobile
// number) and CountryCode "+86", so that GET and signature v1 requests
// carry a '+' that each SDK must percent-encode.
const (
	smhService = "smh"
	smhVersion = "2021-07-12"
	smhAction  = "SendSmsCode"
	smhPurpose = "ChannelUpdateVerify"
	smhCC      = "+86"
)

// smhCall is one SendSmsCode request to build.
type smhCall struct {
	host      string // the endpoint the SDK is configured with: 127.0.0.1:PORT
	secretKey string
	ts        int64
	phone     string // national number
}

func newSMHCall(s *apitest.Server, host string) smhCall {
	return smhCall{host: host, secretKey: accounts.DevSecretKey, ts: s.Clock.Now().Unix(), phone: fmt.Sprintf("1380013%04d", next()%10000)}
}

// tencentCase is one way an SDK calls.
type tencentCase struct {
	name  string
	build func(smhCall) wire
}

// runTencent sends every case and asserts success and delivery; then it
// sends the first case signed with a wrong SecretKey and asserts
// AuthFailure.SignatureFailure, so that each test also proves the request
// was verified.
func runTencent(t *testing.T, cases []tencentCase) {
	t.Helper()
	s := apitest.Start(t)
	runTencentOn(t, s, s.Host, nil, cases)
}

func runTencentOn(t *testing.T, s *apitest.Server, addr string, tlsConf *tls.Config, cases []tencentCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newSMHCall(s, addr)
			if code := tencentCode(t, send(t, addr, tlsConf, tc.build(c))); code != "" {
				t.Fatalf("code %q, want success", code)
			}
			delivered(t, s, smhCC+c.phone)
		})
	}
	t.Run(cases[0].name+" with a wrong SecretKey", func(t *testing.T) {
		c := newSMHCall(s, addr)
		c.secretKey = "not-the-secret"
		if code := tencentCode(t, send(t, addr, tlsConf, cases[0].build(c))); code != tcapi.CodeSignatureFailure {
			t.Fatalf("code %q, want %s", code, tcapi.CodeSignatureFailure)
		}
	})
}

// tc3Authorization formats the header as every SDK here does: ", "
// between the fields.
func tc3Authorization(secretID, scope, signedHeaders, signature string) string {
	return "TC3-HMAC-SHA256 Credential=" + secretID + "/" + scope + ", SignedHeaders=" + signedHeaders + ", Signature=" + signature
}

// sortedKV joins k=v (raw values) sorted by key, keys rewritten by keyFn.
func sortedKV(params map[string]string, keyFn func(string) string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = keyFn(k) + "=" + params[k]
	}
	return strings.Join(parts, "&")
}

func same(k string) string { return k }

func underscoreToDot(k string) string { return strings.ReplaceAll(k, "_", ".") }

// ---------------------------------------------------------------- Python

const (
	pySDK        = "SDK_PYTHON_3.1.162" // TencentCloud/tencentcloud-sdk-python@bf297176cf0f68bffe06666a125efda5072f347a:tencentcloud/__init__.py
	pyRepo       = "TencentCloud/tencentcloud-sdk-python@bf297176cf0f68bffe06666a125efda5072f347a"
	pyRequestsUA = "python-requests/2.32.3"
)

// pythonTC3 rebuilds the generated SmhClient's TC3 request:
//
//   - pyRepo:tencentcloud/smh/v20210712/smh_client.py#L24-L26: service "smh"
//     (the scope names the product, not the endpoint).
//   - pyRepo:tencentcloud/common/abstract_client.py#L175-L225: Content-Type
//     application/json for POST, application/x-www-form-urlencoded for GET;
//     Host = the configured endpoint as given (host:port); X-TC-Region only
//     with a region; X-TC-Language from the profile (default zh-CN,
//     tencentcloud/common/profile/client_profile.py#L40); GET data =
//     urlencode(params) in the model's field order, POST body =
//     json.dumps(params) with its ", " and ": " separators.
//   - #L227-L264: canonical request signs content-type and host with the
//     values as sent, the GET query = exactly the urlencoded data.
//   - tencentcloud/common/http/request.py#L96-L107: GET goes to
//     http://host?data (requests sends the path "/").
//
// region and requestClient are what tccli adds (see TestTCCLI).
func pythonTC3(method, region, requestClient string) func(smhCall) wire {
	return func(c smhCall) wire {
		ts := strconv.FormatInt(c.ts, 10)
		fields := [][2]string{{"Purpose", smhPurpose}, {"PhoneNumber", c.phone}, {"CountryCode", smhCC}}
		contentType, data, query, payload := "application/json", "", "", ""
		if method == "GET" {
			contentType = "application/x-www-form-urlencoded"
			data = pyURLEncode(fields)
			query = data
		} else {
			parts := make([]string, len(fields))
			for i, f := range fields {
				parts[i] = strconv.Quote(f[0]) + ": " + strconv.Quote(f[1])
			}
			data = "{" + strings.Join(parts, ", ") + "}"
			payload = data
		}
		canon := method + "\n/\n" + query + "\n" +
			"content-type:" + contentType + "\nhost:" + c.host + "\n\n" +
			"content-type;host\n" + sha256Hex([]byte(payload))
		date := utcDate(c.ts)
		scope := date + "/" + smhService + "/tc3_request"
		sts := "TC3-HMAC-SHA256\n" + ts + "\n" + scope + "\n" + sha256Hex([]byte(canon))
		sig := tc3Signature(c.secretKey, date, smhService, sts)
		h := [][2]string{
			{"User-Agent", pyRequestsUA}, {"Accept-Encoding", "gzip, deflate"}, {"Accept", "*/*"},
			{"X-TC-TraceId", "0f0e6f1c-3a3b-4c5d-8e9f-0a1b2c3d4e5f"},
			{"Content-Type", contentType}, {"Host", c.host}, {"X-TC-Action", smhAction},
			{"X-TC-RequestClient", requestClient}, {"X-TC-Timestamp", ts}, {"X-TC-Version", smhVersion},
		}
		if region != "" {
			h = append(h, [2]string{"X-TC-Region", region})
		}
		h = append(h, [2]string{"X-TC-Language", "zh-CN"}, [2]string{"Authorization", tc3Authorization(accounts.DevSecretID, scope, "content-type;host", sig)})
		w := wire{Method: method, Target: "/", Header: h}
		if method == "GET" {
			w.Target = "/?" + data
		} else {
			w.Body = []byte(data)
		}
		return w
	}
}

// pythonV1 rebuilds signature v1 (HmacSHA256):
// pyRepo:tencentcloud/common/abstract_client.py#L142-L173 (the common
// parameters after the business ones, Language from the profile, the body
// urlencode(params) with Signature last, Content-Type
// application/x-www-form-urlencoded) and #L340-L347 (string to sign: method
// + endpoint as configured, with its port + "/?" + sorted raw k=v, '_' in
// names written as '.'). request.py#L51 sends Host = the endpoint.
func pythonV1(c smhCall) wire {
	ts := strconv.FormatInt(c.ts, 10)
	nonce := "6129484611666145821"
	pairs := [][2]string{
		{"Purpose", smhPurpose}, {"PhoneNumber", c.phone}, {"CountryCode", smhCC},
		{"Action", smhAction}, {"RequestClient", pySDK}, {"Nonce", nonce}, {"Timestamp", ts},
		{"Version", smhVersion}, {"SecretId", accounts.DevSecretID}, {"SignatureMethod", "HmacSHA256"},
		{"Language", "zh-CN"},
	}
	m := map[string]string{}
	for _, p := range pairs {
		m[p[0]] = p[1]
	}
	sig := v1Signature(c.secretKey, "HmacSHA256", "POST"+c.host+"/?"+sortedKV(m, underscoreToDot))
	pairs = append(pairs, [2]string{"Signature", sig})
	return wire{Method: "POST", Target: "/", Body: []byte(pyURLEncode(pairs)), Header: [][2]string{
		{"User-Agent", pyRequestsUA}, {"Accept-Encoding", "gzip, deflate"}, {"Accept", "*/*"},
		{"X-TC-TraceId", "0f0e6f1c-3a3b-4c5d-8e9f-0a1b2c3d4e5f"},
		{"Content-Type", "application/x-www-form-urlencoded"}, {"Host", c.host},
	}}
}

// TestTencentPython: tencentcloud-sdk-python, generated SmhClient with
// HttpProfile(protocol="http", endpoint="127.0.0.1:PORT").
func TestTencentPython(t *testing.T) {
	runTencent(t, []tencentCase{
		{"POST TC3", pythonTC3("POST", "", pySDK)},
		{"GET TC3", pythonTC3("GET", "", pySDK)},
		{"POST HmacSHA256", pythonV1},
	})
}

// TestTCCLI: tccli smh SendSmsCode --endpoint 127.0.0.1:PORT. tccli builds
// the Python SDK's SmhClient with an HttpProfile that sets no protocol, so
// it always speaks HTTPS
// (TencentCloud/tencentcloud-cli@6e53beb521ad49d551683fc7b1439a8543f7ea68:tccli/services/smh/smh_client.py#L210-L216,
// the same block as #L39-L45 for every action); it requires a region
// (#L685-L689) and appends "_CLI_<version>" to the request client
// (#L217-L219, tccli/__init__.py#L1). Here a TLS listener that forwards the
// Host as received stands in for the TLS-terminating proxy the
// documentation prescribes.
func TestTCCLI(t *testing.T) {
	s := apitest.Start(t)
	ts := httptest.NewTLSServer(s.App.Handler)
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	addr := strings.TrimPrefix(ts.URL, "https://")
	runTencentOn(t, s, addr, &tls.Config{RootCAs: pool}, []tencentCase{
		{"HTTPS POST TC3", pythonTC3("POST", "ap-guangzhou", pySDK+"; _CLI_3.1.155.1")},
	})
}

// ---------------------------------------------------------------- Java

const (
	javaSDK  = "SDK_JAVA_3.2.11"
	javaRepo = "TencentCloud/tencentcloud-sdk-java@970d68bd0f0dcd12d765988eaa433059719c58ad"
	okhttp   = "okhttp/3.14.9"
)

// javaTC3 rebuilds AbstractClient.doRequestWithTC3 (javaRepo:
// src/main/java/com/tencentcloudapi/common/AbstractClient.java#L746-L878;
// tencentcloud-sdk-java-intl-en@b4cc9466885514d5d15dbb11927b8aeff836a317
// has the same file but for the version string):
//
//   - #L754, #L770-L775: Content-Type application/x-www-form-urlencoded for
//     GET, "application/json; charset=utf-8" for POST (the JSON of the
//     model, AbstractModel.java#L59-L61, compact).
//   - #L778, #L928-L951: the GET query is built from a HashMap (its
//     iteration order), names raw, values URLEncoder.encode'd, and sent as
//     is (#L871-L872).
//   - #L779: host = the configured endpoint, port included.
//   - #L805 (and #L124): the scope's service is endpoint.split(".")[0], so
//     "127" for 127.0.0.1:PORT: verifyfn routes such a scope by
//     X-TC-Action (shared/tcapi since cb07084).
//   - #L836-L861: headers in this order; X-TC-Region whenever the region is
//     not null ("" here), no X-TC-Language unless set.
func javaTC3(method string) func(smhCall) wire {
	return func(c smhCall) wire {
		ts := strconv.FormatInt(c.ts, 10)
		contentType, query, body := "application/x-www-form-urlencoded", "", ""
		vals := map[string]string{"Purpose": smhPurpose, "PhoneNumber": c.phone, "CountryCode": smhCC}
		if method == "GET" {
			var parts []string
			for _, k := range javaHashMapOrder([]string{"Purpose", "PhoneNumber", "CountryCode"}) {
				parts = append(parts, k+"="+javaURLEncode(vals[k]))
			}
			query = strings.Join(parts, "&")
		} else {
			contentType = "application/json; charset=utf-8"
			body = `{"Purpose":"` + smhPurpose + `","PhoneNumber":"` + c.phone + `","CountryCode":"` + smhCC + `"}`
		}
		service := strings.Split(c.host, ".")[0]
		canon := method + "\n/\n" + query + "\n" +
			"content-type:" + contentType + "\nhost:" + c.host + "\n\n" +
			"content-type;host\n" + sha256Hex([]byte(body))
		date := utcDate(c.ts)
		scope := date + "/" + service + "/tc3_request"
		sig := tc3Signature(c.secretKey, date, service, "TC3-HMAC-SHA256\n"+ts+"\n"+scope+"\n"+sha256Hex([]byte(canon)))
		w := wire{Method: method, Target: "/", Body: []byte(body), Header: [][2]string{
			{"Content-Type", contentType}, {"Host", c.host},
			{"Authorization", tc3Authorization(accounts.DevSecretID, scope, "content-type;host", sig)},
			{"X-TC-Action", smhAction}, {"X-TC-Timestamp", ts}, {"X-TC-Version", smhVersion},
			{"X-TC-RequestClient", javaSDK}, {"X-TC-Region", ""},
			{"Accept-Encoding", "gzip"}, {"User-Agent", okhttp},
		}}
		if method == "GET" {
			w.Target = "/?" + query
		}
		return w
	}
}

// javaV1 rebuilds signature v1 (HmacSHA256): AbstractClient.java#L715-L734
// (POST form to protocol + endpoint + "/"), #L961-L1022 (the parameters in
// a HashMap; the string to sign from a TreeMap through Sign.java#L71-L101:
// method + endpoint with its port + "/" + "?k=v&..." raw, '_' in names
// written as '.'; the body URLEncoder-encodes names and values in HashMap
// order and appends Signature last). http/HttpConnection.java#L98-L107 posts
// a String body, so OkHttp sends Content-Type
// "application/x-www-form-urlencoded; charset=utf-8" and Host host:port.
func javaV1(c smhCall) wire {
	ts := strconv.FormatInt(c.ts, 10)
	m := map[string]string{
		"Purpose": smhPurpose, "PhoneNumber": c.phone, "CountryCode": smhCC,
		"Action": smhAction, "RequestClient": javaSDK, "Nonce": "1804289383", "Timestamp": ts,
		"Version": smhVersion, "SecretId": accounts.DevSecretID, "SignatureMethod": "HmacSHA256",
	}
	insertion := []string{"Purpose", "PhoneNumber", "CountryCode", "Action", "RequestClient", "Nonce", "Timestamp", "Version", "SecretId", "SignatureMethod"}
	sig := v1Signature(c.secretKey, "HmacSHA256", "POST"+c.host+"/?"+sortedKV(m, underscoreToDot))
	var body string
	for _, k := range javaHashMapOrder(insertion) {
		body += javaURLEncode(k) + "=" + javaURLEncode(m[k]) + "&"
	}
	body += "Signature=" + javaURLEncode(sig)
	return wire{Method: "POST", Target: "/", Body: []byte(body), Header: [][2]string{
		{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}, {"Host", c.host},
		{"Accept-Encoding", "gzip"}, {"User-Agent", okhttp},
	}}
}

// TestTencentJava: tencentcloud-sdk-java (and -intl-en) SmhClient with
// HttpProfile.setProtocol("http://"), setEndpoint("127.0.0.1:PORT").
func TestTencentJava(t *testing.T) {
	runTencent(t, []tencentCase{
		{"POST TC3", javaTC3("POST")},
		{"GET TC3", javaTC3("GET")},
		{"POST HmacSHA256", javaV1},
	})
}

// ---------------------------------------------------------------- PHP

const (
	phpSDK  = "SDK_PHP_3.0.1656"
	phpRepo = "TencentCloud/tencentcloud-sdk-php@f8d5ee09218e1408201b12e9704c76c3c948b386"
	guzzle  = "GuzzleHttp/7"
)

// phpTC3 rebuilds AbstractClient::doRequestWithTC3 (phpRepo:
// src/TencentCloud/Common/AbstractClient.php#L496-L593): Host = the
// endpoint as configured (#L499, port included); X-TC-Region only with a
// region (#L505); GET: Content-Type application/x-www-form-urlencoded and the
// query http_build_query() of the model (#L521-L528), sent as that string
// (Http/HttpConnection.php#L46-L58); POST: Content-Type application/json and
// the body AbstractModel::toJsonString (AbstractModel.php#L108-L116,
// json_encode, compact); canonical headers content-type and host
// (#L557-L559); the scope's service explode(".", endpoint)[0], "127"
// (#L570).
func phpTC3(method string) func(smhCall) wire {
	return func(c smhCall) wire {
		ts := strconv.FormatInt(c.ts, 10)
		contentType, query, body := "application/json", "", ""
		if method == "GET" {
			contentType = "application/x-www-form-urlencoded"
			query = phpHTTPBuildQuery([][2]string{{"Purpose", smhPurpose}, {"PhoneNumber", c.phone}, {"CountryCode", smhCC}})
		} else {
			body = `{"Purpose":"` + smhPurpose + `","PhoneNumber":"` + c.phone + `","CountryCode":"` + smhCC + `"}`
		}
		service := strings.Split(c.host, ".")[0]
		canon := method + "\n/\n" + query + "\n" +
			"content-type:" + contentType + "\nhost:" + c.host + "\n\n" +
			"content-type;host\n" + sha256Hex([]byte(body))
		date := utcDate(c.ts)
		scope := date + "/" + service + "/tc3_request"
		sig := tc3Signature(c.secretKey, date, service, "TC3-HMAC-SHA256\n"+ts+"\n"+scope+"\n"+sha256Hex([]byte(canon)))
		w := wire{Method: method, Target: "/", Body: []byte(body), Header: [][2]string{
			{"User-Agent", guzzle}, {"Host", c.host}, {"X-TC-Action", smhAction},
			{"X-TC-RequestClient", phpSDK}, {"X-TC-Timestamp", ts}, {"X-TC-Version", smhVersion},
			{"Content-Type", contentType},
			{"Authorization", tc3Authorization(accounts.DevSecretID, scope, "content-type;host", sig)},
		}}
		if method == "GET" {
			w.Target = "/?" + query
		}
		return w
	}
}

// phpV1 rebuilds signature v1 (HmacSHA256): AbstractClient.php#L641-L674
// (common parameters after the business ones; Nonce from rand()),
// #L691-L701 (string to sign: ksort, method + endpoint with its port + "/?"
// + raw k=v) and Http/HttpConnection.php#L60-L71 (Guzzle form_params: the
// body is http_build_query, Content-Type application/x-www-form-urlencoded).
func phpV1(c smhCall) wire {
	ts := strconv.FormatInt(c.ts, 10)
	pairs := [][2]string{
		{"Purpose", smhPurpose}, {"PhoneNumber", c.phone}, {"CountryCode", smhCC},
		{"Action", smhAction}, {"RequestClient", phpSDK}, {"Nonce", "1681692777"}, {"Timestamp", ts},
		{"Version", smhVersion}, {"SecretId", accounts.DevSecretID}, {"SignatureMethod", "HmacSHA256"},
	}
	m := map[string]string{}
	for _, p := range pairs {
		m[p[0]] = p[1]
	}
	pairs = append(pairs, [2]string{"Signature", v1Signature(c.secretKey, "HmacSHA256", "POST"+c.host+"/?"+sortedKV(m, same))})
	return wire{Method: "POST", Target: "/", Body: []byte(phpHTTPBuildQuery(pairs)), Header: [][2]string{
		{"User-Agent", guzzle}, {"Host", c.host}, {"Content-Type", "application/x-www-form-urlencoded"},
	}}
}

// TestTencentPHP: tencentcloud-sdk-php SmhClient with
// HttpProfile::setProtocol("http://"), setEndpoint("127.0.0.1:PORT").
func TestTencentPHP(t *testing.T) {
	runTencent(t, []tencentCase{
		{"POST TC3", phpTC3("POST")},
		{"GET TC3", phpTC3("GET")},
		{"POST HmacSHA256", phpV1},
	})
}

// ---------------------------------------------------------------- .NET

const (
	dotnetSDK  = "SDK_NET_3.0.1493"
	dotnetRepo = "TencentCloud/tencentcloud-sdk-dotnet@1818f49c6ddb196652ea7fa635d0c4a75f9af89a"
)

// dotnetTC3 rebuilds AbstractClient.RequestV3 and BuildHeaders (dotnetRepo:
// TencentCloud/Common/AbstractClient.cs#L305-L423): Content-Type
// application/json for POST, application/x-www-form-urlencoded for GET, no
// charset (#L425-L439); the GET query WebUtility.UrlEncode's names and values
// in the model's order (#L447-L466); the POST body Newtonsoft JSON, nulls
// left out (#L474-L502); host = the endpoint as configured (#L357); the
// scope's service endpoint.Split('.')[0], "127" (#L372); X-TC-Region always
// (empty here) and X-TC-Language zh-CN by default (#L392-L411).
// Http/HttpConnection.cs#L305-L346 sends the Authorization through
// AuthenticationHeaderValue("TC3-HMAC-SHA256", value minus the scheme), so
// the header carries two spaces after the algorithm (#L331), and the GET's
// empty ByteArrayContent still sends Content-Type and Content-Length: 0.
func dotnetTC3(method string) func(smhCall) wire {
	return func(c smhCall) wire {
		ts := strconv.FormatInt(c.ts, 10)
		contentType, query, body := "application/json", "", ""
		if method == "GET" {
			contentType = "application/x-www-form-urlencoded"
			var parts []string
			for _, p := range [][2]string{{"Purpose", smhPurpose}, {"PhoneNumber", c.phone}, {"CountryCode", smhCC}} {
				parts = append(parts, dotnetURLEncode(p[0])+"="+dotnetURLEncode(p[1]))
			}
			query = strings.Join(parts, "&")
		} else {
			body = `{"Purpose":"` + smhPurpose + `","PhoneNumber":"` + c.phone + `","CountryCode":"` + smhCC + `"}`
		}
		service := strings.Split(c.host, ".")[0]
		canon := method + "\n/\n" + query + "\n" +
			"content-type:" + contentType + "\nhost:" + c.host + "\n\n" +
			"content-type;host\n" + sha256Hex([]byte(body))
		date := utcDate(c.ts)
		scope := date + "/" + service + "/tc3_request"
		sig := tc3Signature(c.secretKey, date, service, "TC3-HMAC-SHA256\n"+ts+"\n"+scope+"\n"+sha256Hex([]byte(canon)))
		auth := tc3Authorization(accounts.DevSecretID, scope, "content-type;host", sig)
		auth = "TC3-HMAC-SHA256 " + auth[len("TC3-HMAC-SHA256"):] // scheme + " " + parameter that starts with a space
		w := wire{Method: method, Target: "/", Body: []byte(body), Header: [][2]string{
			{"Host", c.host}, {"Authorization", auth}, {"X-TC-Timestamp", ts}, {"X-TC-Version", smhVersion},
			{"X-TC-Region", ""}, {"X-TC-RequestClient", dotnetSDK}, {"X-TC-Language", "zh-CN"},
			{"X-TC-Action", smhAction}, {"Content-Type", contentType},
		}}
		if method == "GET" {
			w.Target = "/?" + query
			w.Header = append(w.Header, [2]string{"Content-Length", "0"})
		}
		return w
	}
}

// dotnetV1 rebuilds signature v1 (HmacSHA256): AbstractClient.cs#L528-L612
// (parameters in insertion order, the string to sign from a SortedDictionary
// with the ordinal comparer through Sign.cs#L115-L146: method + endpoint with
// its port + "/?" + raw k=v) and Http/HttpConnection.cs#L272-L280 (the form
// body WebUtility.UrlEncode's names and values; the URL keeps a trailing
// "?", so the request target is "/?").
func dotnetV1(c smhCall) wire {
	ts := strconv.FormatInt(c.ts, 10)
	pairs := [][2]string{
		{"Purpose", smhPurpose}, {"PhoneNumber", c.phone}, {"CountryCode", smhCC},
		{"Action", smhAction}, {"RequestClient", dotnetSDK}, {"Nonce", "846930886"}, {"Timestamp", ts},
		{"Version", smhVersion}, {"SecretId", accounts.DevSecretID}, {"SignatureMethod", "HmacSHA256"},
	}
	m := map[string]string{}
	for _, p := range pairs {
		m[p[0]] = p[1]
	}
	pairs = append(pairs, [2]string{"Signature", v1Signature(c.secretKey, "HmacSHA256", "POST"+c.host+"/?"+sortedKV(m, same))})
	var parts []string
	for _, p := range pairs {
		parts = append(parts, dotnetURLEncode(p[0])+"="+dotnetURLEncode(p[1]))
	}
	return wire{Method: "POST", Target: "/?", Body: []byte(strings.Join(parts, "&")), Header: [][2]string{
		{"Host", c.host}, {"Content-Type", "application/x-www-form-urlencoded"},
	}}
}

// TestTencentDotNet: tencentcloud-sdk-dotnet SmhClient with
// HttpProfile.Protocol = "http://", Endpoint = "127.0.0.1:PORT".
func TestTencentDotNet(t *testing.T) {
	runTencent(t, []tencentCase{
		{"POST TC3", dotnetTC3("POST")},
		{"GET TC3", dotnetTC3("GET")},
		{"POST HmacSHA256", dotnetV1},
	})
}

// ---------------------------------------------------------------- C++

const cppSDK = "SDK_CPP_3.3.165" // core/include/tencentcloud/core/Config.h#L23

// cppTC3 rebuilds AbstractClient::DoRequest and GenerateSignature
// (TencentCloud/tencentcloud-sdk-cpp@b8551bffa5ce825c2669ab5691aa4bc8b37056ff:core/src/AbstractClient.cpp#L113-L216):
// POST only, TC3 only, Content-Type application/json (#L92-L97); the scope's
// service is the endpoint up to its first '.', "127" (an endpoint without
// a dot is refused by the client, #L120-L127); Host = the endpoint as given
// (#L129-L138, core/src/http/Url.cpp keeps host:port); X-TC-Region only with
// a region; "Connection: Close"; the headers live in a case-insensitive
// std::map (core/include/tencentcloud/core/http/Http.h#L35), so
// libcurl writes them sorted, then its own Accept.
func cppTC3(c smhCall) wire {
	ts := strconv.FormatInt(c.ts, 10)
	body := `{"Purpose":"` + smhPurpose + `","PhoneNumber":"` + c.phone + `","CountryCode":"` + smhCC + `"}`
	service := c.host[:strings.IndexByte(c.host, '.')]
	canon := "POST\n/\n\n" + "content-type:application/json\nhost:" + c.host + "\n\n" +
		"content-type;host\n" + sha256Hex([]byte(body))
	date := utcDate(c.ts)
	scope := date + "/" + service + "/tc3_request"
	sig := tc3Signature(c.secretKey, date, service, "TC3-HMAC-SHA256\n"+ts+"\n"+scope+"\n"+sha256Hex([]byte(canon)))
	return wire{Method: "POST", Target: "/", Body: []byte(body), Header: [][2]string{
		{"Host", c.host}, {"Accept", "*/*"},
		{"Authorization", "TC3-HMAC-SHA256 Credential=" + accounts.DevSecretID + "/" + scope + ", SignedHeaders=content-type;host, Signature=" + sig},
		{"Connection", "Close"}, {"Content-Type", "application/json"},
		{"X-TC-Action", smhAction}, {"X-TC-RequestClient", cppSDK}, {"X-TC-Timestamp", ts}, {"X-TC-Version", smhVersion},
	}}
}

// TestTencentCPP: tencentcloud-sdk-cpp SmhClient with
// HttpProfile::SetProtocol(HTTP), SetEndpoint("127.0.0.1:PORT").
func TestTencentCPP(t *testing.T) {
	runTencent(t, []tencentCase{{"POST TC3", cppTC3}})
}
