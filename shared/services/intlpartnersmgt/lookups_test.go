package intlpartnersmgt_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
)

// The SDK's models (tencentcloud-sdk-go-intl-en intlpartnersmgt/v20220928).
type (
	tradeTwoNode struct{ Id, Name, TradeInfo *string }
	tradeOneNode struct {
		Id, Name *string
		Children []tradeTwoNode
	}
	countryCodeItem struct{ EnName, Name, IOS2, IOS3, Code *string }
)

func tradeList(t *testing.T, c *tcclient.Client) []tradeOneNode {
	t.Helper()
	resp, err := c.Call(service, version, "GetTradeConfigList", nil)
	if err != nil {
		t.Fatalf("GetTradeConfigList: %v", err)
	}
	var out struct {
		TradeList []tradeOneNode
		RequestId *string
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		t.Fatal(err)
	}
	if out.RequestId == nil || *out.RequestId == "" {
		t.Fatalf("no RequestId in %s", resp)
	}
	return out.TradeList
}

func countryCodes(t *testing.T, c *tcclient.Client) []countryCodeItem {
	t.Helper()
	resp, err := c.Call(service, version, "GetCountryCodes", nil)
	if err != nil {
		t.Fatalf("GetCountryCodes: %v", err)
	}
	var out struct{ Data []countryCodeItem }
	if err := json.Unmarshal(resp, &out); err != nil {
		t.Fatal(err)
	}
	return out.Data
}

func str(p *string) string {
	if p == nil {
		return "<missing>"
	}
	return *p
}

var (
	tradeOneID = regexp.MustCompile(`^kghy_[0-9]{2}$`)
	tradeTwoID = regexp.MustCompile(`^kghy_[0-9]{4}$`)
)

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestGetTradeConfigListChinese(t *testing.T) {
	s := apitest.Start(t)
	list := tradeList(t, s.Tencent(tcclient.Options{Language: "zh-CN"}))
	if len(list) != 20 {
		t.Fatalf("%d first-level industries, want GB/T 4754-2017's 20 sections", len(list))
	}
	// The part Tencent publishes (the GetTradeConfigList example).
	first := list[0]
	want := []struct{ id, name string }{{"kghy_0101", "农业"}, {"kghy_0102", "林业"}, {"kghy_0103", "畜牧业"}, {"kghy_0104", "渔业"}}
	if str(first.Id) != "kghy_01" || str(first.Name) != "农林牧渔业" || len(first.Children) != len(want) {
		t.Fatalf("first industry %s %s with %d children, want the documented kghy_01 农林牧渔业 with 4", str(first.Id), str(first.Name), len(first.Children))
	}
	for i, w := range want {
		c := first.Children[i]
		if str(c.Id) != w.id || str(c.Name) != w.name || str(c.TradeInfo) != "kghy_01" {
			t.Errorf("child %d = %s %s %s, want %s %s kghy_01", i, str(c.Id), str(c.Name), str(c.TradeInfo), w.id, w.name)
		}
	}
	// kghy_16 / kghy_1601, the ids of the account API's examples.
	if edu := list[15]; str(edu.Id) != "kghy_16" || str(edu.Name) != "教育" || len(edu.Children) != 1 || str(edu.Children[0].Id) != "kghy_1601" {
		t.Errorf("kghy_16 = %s %s %+v", str(edu.Id), str(edu.Name), edu.Children)
	}
	ids := map[string]bool{}
	for _, one := range list {
		if !tradeOneID.MatchString(str(one.Id)) || !hasHan(str(one.Name)) || len(one.Children) == 0 {
			t.Errorf("industry %s %q with %d children", str(one.Id), str(one.Name), len(one.Children))
		}
		for _, two := range one.Children {
			if !tradeTwoID.MatchString(str(two.Id)) || str(two.Id)[:7] != str(one.Id) || str(two.TradeInfo) != str(one.Id) || !hasHan(str(two.Name)) {
				t.Errorf("child %s %q %s of %s", str(two.Id), str(two.Name), str(two.TradeInfo), str(one.Id))
			}
			if ids[str(two.Id)] {
				t.Errorf("%s twice", str(two.Id))
			}
			ids[str(two.Id)] = true
		}
	}
}

func TestGetTradeConfigListEnglish(t *testing.T) {
	s := apitest.Start(t)
	zh := tradeList(t, s.Tencent(tcclient.Options{Language: "zh-CN"}))
	for _, lang := range []string{"en-US", "fr-FR"} {
		t.Run(lang, func(t *testing.T) {
			en := tradeList(t, s.Tencent(tcclient.Options{Language: lang}))
			if len(en) != len(zh) {
				t.Fatalf("%d industries in English, %d in Chinese", len(en), len(zh))
			}
			if got := str(en[0].Name); got != "Agriculture, Forestry, Animal Husbandry and Fishery" {
				t.Errorf("kghy_01 in English = %q", got)
			}
			for i, one := range en {
				// The same tree, only the names differ.
				if str(one.Id) != str(zh[i].Id) || len(one.Children) != len(zh[i].Children) {
					t.Fatalf("industry %d: %s with %d children in English, %s with %d in Chinese", i, str(one.Id), len(one.Children), str(zh[i].Id), len(zh[i].Children))
				}
				names := []string{str(one.Name)}
				for j, two := range one.Children {
					if str(two.Id) != str(zh[i].Children[j].Id) || str(two.TradeInfo) != str(one.Id) {
						t.Errorf("child %s/%s of %s", str(two.Id), str(two.TradeInfo), str(one.Id))
					}
					names = append(names, str(two.Name))
				}
				for _, n := range names {
					if n == "" || hasHan(n) {
						t.Errorf("English name %q under %s", n, str(one.Id))
					}
				}
			}
		})
	}
}

func TestGetTradeConfigListSignatureV1Language(t *testing.T) {
	// Signature v1 carries the language as the Language parameter.
	s := apitest.Start(t)
	for lang, want := range map[string]string{"zh-CN": "农林牧渔业", "en-US": "Agriculture, Forestry, Animal Husbandry and Fishery"} {
		list := tradeList(t, s.Tencent(tcclient.Options{SignMethod: "HmacSHA256", Language: lang}))
		if got := str(list[0].Name); got != want {
			t.Errorf("%s over v1: %q, want %q", lang, got, want)
		}
	}
}

func TestLookupsTakeNoParameters(t *testing.T) {
	s := apitest.Start(t)
	c := s.Tencent(tcclient.Options{})
	for _, action := range []string{"GetTradeConfigList", "GetCountryCodes"} {
		_, err := c.Call(service, version, action, map[string]any{"Limit": 10})
		if got := sdkCode(t, err); got != "UnknownParameter" {
			t.Errorf("%s with a parameter: %q, want UnknownParameter", action, got)
		}
		_, err = c.Call(service, "2020-01-01", action, nil)
		if got := sdkCode(t, err); got != "NoSuchVersion" {
			t.Errorf("%s at another version: %q, want NoSuchVersion", action, got)
		}
	}
}

func TestLookupsAreRateLimited(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.RateLimit = 2 }))
	c := s.Tencent(tcclient.Options{})
	for _, action := range []string{"GetTradeConfigList", "GetCountryCodes"} {
		var codes []string
		// The test clock does not move: every call falls in one second.
		for range 3 {
			_, err := c.Call(service, version, action, nil)
			codes = append(codes, sdkCode(t, err))
		}
		if !slices.Equal(codes, []string{"", "", "RequestLimitExceeded"}) {
			t.Errorf("%s three times at 2 per second: %q", action, codes)
		}
	}
}

// TestCountryCodesFollowSendVerifyCodesRule walks every calling code
// libphonenumber knows through the rule SendVerifyCode applies
// (CallingCodeRule) and requires GetCountryCodes to list exactly those it
// accepts, with every region of each, and none it refuses.
func TestCountryCodesFollowSendVerifyCodesRule(t *testing.T) {
	for _, unsupported := range [][]int{nil, {1, 44}} {
		cfg := intlpartnersmgt.Config{UnsupportedCountryCodes: unsupported}
		rule := intlpartnersmgt.CallingCodeRule(cfg)
		s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) {
			if unsupported != nil {
				c.UnsupportedAreas = unsupported
			}
		}))
		listed := map[string][]string{} // code -> regions
		for _, it := range countryCodes(t, s.Tencent(tcclient.Options{})) {
			listed[str(it.Code)] = append(listed[str(it.Code)], str(it.IOS2))
		}
		refused := map[int]string{}
		for code := range phonenumbers.GetSupportedCallingCodes() {
			err := rule(code)
			var e *apierr.Error
			switch {
			case err == nil:
				var want []string
				for _, r := range phonenumbers.GetRegionCodesForCountryCode(code) {
					if r != "001" {
						want = append(want, r)
					}
				}
				got := listed[strconv.Itoa(code)]
				slices.Sort(want)
				slices.Sort(got)
				if len(want) == 0 || !slices.Equal(got, want) {
					t.Errorf("accepted code %d: listed with %v, want its regions %v", code, got, want)
				}
				delete(listed, strconv.Itoa(code))
			case errors.As(err, &e):
				refused[code] = e.Code
				if _, ok := listed[strconv.Itoa(code)]; ok {
					t.Errorf("code %d is refused with %s but listed", code, e.Code)
				}
			default:
				t.Fatalf("code %d: %v", code, err)
			}
		}
		if len(listed) != 0 {
			t.Errorf("listed codes libphonenumber does not know: %v", listed)
		}
		wantUnsupported := unsupported
		if wantUnsupported == nil {
			wantUnsupported = []int{7, 380, 86}
		}
		for _, code := range wantUnsupported {
			if refused[code] != "InvalidParameterValue.UnSupportArea" {
				t.Errorf("unsupported code %d: %q", code, refused[code])
			}
		}
		for code := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
			if refused[code] != "InvalidParameterValue" {
				t.Errorf("non-geographic code %d: %q, want InvalidParameterValue", code, refused[code])
			}
		}
	}
}

func TestGetCountryCodesItems(t *testing.T) {
	s := apitest.Start(t)
	items := countryCodes(t, s.Tencent(tcclient.Options{Language: "en-US"}))
	if len(items) < 200 {
		t.Fatalf("%d items", len(items))
	}
	byISO := map[string]countryCodeItem{}
	for _, it := range items {
		iso2, iso3 := str(it.IOS2), str(it.IOS3)
		region, err := language.ParseRegion(iso2)
		if err != nil || len(iso2) != 2 || region.String() != iso2 {
			t.Errorf("IOS2 %q is not an ISO 3166-1 alpha-2 code", iso2)
			continue
		}
		if r3, err := language.ParseRegion(iso3); err != nil || len(iso3) != 3 || r3 != region {
			t.Errorf("IOS3 %q is not the alpha-3 code of %s", iso3, iso2)
		}
		if phonenumbers.GetCountryCodeForRegion(iso2) != atoi(t, str(it.Code)) {
			t.Errorf("%s: Code %q, libphonenumber says %d", iso2, str(it.Code), phonenumbers.GetCountryCodeForRegion(iso2))
		}
		if en := str(it.EnName); en == "" || hasHan(en) {
			t.Errorf("%s: EnName %q", iso2, en)
		}
		if !hasHan(str(it.Name)) {
			t.Errorf("%s: Name %q is not Chinese", iso2, str(it.Name))
		}
		if _, dup := byISO[iso2]; dup {
			t.Errorf("%s listed twice", iso2)
		}
		byISO[iso2] = it
	}
	// The documented example, and a few the registration flow uses.
	for _, w := range []countryCodeItem{
		{EnName: ptr("Albania"), Name: ptr("阿尔巴尼亚"), IOS2: ptr("AL"), IOS3: ptr("ALB"), Code: ptr("355")},
		{EnName: ptr("Singapore"), Name: ptr("新加坡"), IOS2: ptr("SG"), IOS3: ptr("SGP"), Code: ptr("65")},
		{EnName: ptr("United States"), Name: ptr("美国"), IOS2: ptr("US"), IOS3: ptr("USA"), Code: ptr("1")},
	} {
		got, ok := byISO[str(w.IOS2)]
		if !ok || str(got.EnName) != str(w.EnName) || str(got.Name) != str(w.Name) || str(got.IOS3) != str(w.IOS3) || str(got.Code) != str(w.Code) {
			t.Errorf("%s = %s/%s/%s/%s, want %s/%s/%s/%s", str(w.IOS2), str(got.EnName), str(got.Name), str(got.IOS3), str(got.Code),
				str(w.EnName), str(w.Name), str(w.IOS3), str(w.Code))
		}
	}
	if hk := byISO["HK"]; str(hk.Code) != "852" || !hasHan(str(hk.Name)) {
		t.Errorf("HK = %+v", hk)
	}
	for _, iso := range []string{"CN", "RU", "KZ", "UA"} {
		if _, ok := byISO[iso]; ok {
			t.Errorf("%s is listed, but its calling code is an unsupported area", iso)
		}
	}
	// Both names whatever the request's language.
	zh := countryCodes(t, s.Tencent(tcclient.Options{Language: "zh-CN"}))
	if len(zh) != len(items) || str(zh[0].EnName) != str(items[0].EnName) || str(zh[0].Name) != str(items[0].Name) {
		t.Errorf("the zh-CN answer differs: %d items, first %s/%s", len(zh), str(zh[0].EnName), str(zh[0].Name))
	}
}

// TestSendVerifyCodeToListedCodes sends a code through the SDK to an example
// number of a sample of listed regions (one per calling code shared by
// several), and to the refused ones.
func TestSendVerifyCodeToListedCodes(t *testing.T) {
	s := apitest.Start(t)
	c := s.Tencent(tcclient.Options{})
	items := countryCodes(t, c)
	sample := map[string]bool{"AL": true, "SG": true, "HK": true, "US": true, "CA": true, "GB": true, "JE": true, "AU": true, "GU": true, "XK": true, "TA": true}
	sent := 0
	for _, it := range items {
		iso2 := str(it.IOS2)
		if !sample[iso2] {
			continue
		}
		n := phonenumbers.GetExampleNumberForType(iso2, phonenumbers.MOBILE)
		want := ""
		if n == nil {
			// No mobile example (TA): the fixed line is a valid number
			// the fraud guard refuses an SMS to.
			n, want = phonenumbers.GetExampleNumber(iso2), "InvalidParameterValue"
		}
		national := phonenumbers.GetNationalSignificantNumber(n)
		if err := sendCode(c, map[string]any{"CountryCode": str(it.Code), "PhoneNum": national}); sdkCode(t, err) != want {
			t.Errorf("SendVerifyCode to listed %s (+%s %s): %v, want %q", iso2, str(it.Code), national, err, want)
		}
		sent++
	}
	if sent < 9 {
		t.Fatalf("only %d of the sampled regions are listed", sent)
	}
	for _, tc := range []struct{ cc, num, want string }{
		{"86", "13800138000", "InvalidParameterValue.UnSupportArea"},
		{"7", "7012345678", "InvalidParameterValue.UnSupportArea"}, // Kazakhstan shares Russia's code
		{"380", "501234567", "InvalidParameterValue.UnSupportArea"},
		{"800", "12345678", "InvalidParameterValue"},   // international freephone: no country or region
		{"870", "301234567", "InvalidParameterValue"},  // Inmarsat
		{"+881", "612345678", "InvalidParameterValue"}, // a satellite network
	} {
		if got := sdkCode(t, sendCode(c, map[string]any{"CountryCode": tc.cc, "PhoneNum": tc.num})); got != tc.want {
			t.Errorf("SendVerifyCode +%s: %q, want %q", tc.cc, got, tc.want)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Errorf("Code %q is not a number", s)
	}
	return n
}

func ptr(s string) *string { return &s }
