package intlpartnersmgt

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// countryCodeItem is the SDK's CountryCodeItem {EnName, Name, IOS2, IOS3,
// Code}, all strings (tencentcloud-sdk-go-intl-en
// intlpartnersmgt/v20220928/models.go; Tencent spells ISO as IOS). Name is
// the Chinese name whatever the request's language, EnName the English one;
// Code is the calling code without "+", as in the documented example
// {"Code":"355","EnName":"Albania","IOS2":"AL","IOS3":"ALB","Name":"阿尔巴尼亚"}.
type countryCodeItem struct {
	EnName string
	Name   string
	IOS2   string
	IOS3   string
	Code   string
}

// callingCode is SendVerifyCode's rule for a country calling code that
// libphonenumber knows (contact.ParseCountryCode): an unsupported area
// (Config.UnsupportedCountryCodes) is refused with UnSupportArea, with every
// region that shares its code (7 is Russia and Kazakhstan); a
// non-geographic code (800 freephone, 870 Inmarsat, 881 satellite...) is
// refused with InvalidParameterValue: it belongs to no country or region, so
// it has no Area (ISO2) for CreateAccount and no GetCountryCodes entry.
// GetCountryCodes lists exactly the codes this accepts.
func (s *svc) callingCode(code int) error {
	if slices.Contains(s.cfg.UnsupportedCountryCodes, code) {
		return ErrUnsupportedArea
	}
	if len(regionsOf(code)) == 0 {
		return ErrInvalidValue
	}
	return nil
}

// regionsOf are the ISO 3166-1 regions libphonenumber assigns to a calling
// code, without its "001" (World) of the non-geographic codes.
func regionsOf(code int) []string {
	return slices.DeleteFunc(slices.Clone(phonenumbers.GetRegionCodesForCountryCode(code)), func(r string) bool { return r == "001" })
}

// countryCodes builds GetCountryCodes' answer: one item per region of every
// calling code libphonenumber knows that callingCode accepts, sorted by ISO2,
// with the region's English and Chinese names and ISO3 code from
// golang.org/x/text (CLDR). It runs once, on first use (svc.countries);
// x/text/language/display costs nothing more at start-up, as libphonenumber
// already links it.
func (s *svc) countryCodes() []countryCodeItem {
	en, zh := display.English.Regions(), display.Chinese.Regions()
	var out []countryCodeItem
	for code := range phonenumbers.GetSupportedCallingCodes() {
		if s.callingCode(code) != nil {
			continue
		}
		for _, r := range regionsOf(code) {
			region, err := language.ParseRegion(r)
			if err != nil {
				continue
			}
			out = append(out, countryCodeItem{
				EnName: en.Name(region), Name: zh.Name(region),
				IOS2: region.String(), IOS3: region.ISO3(), Code: strconv.Itoa(code),
			})
		}
	}
	slices.SortFunc(out, func(a, b countryCodeItem) int { return strings.Compare(a.IOS2, b.IOS2) })
	return out
}

// getCountryCodes answers the country and region calling codes SendVerifyCode
// accepts (CreateAccount then needs the code SendVerifyCode sent). It takes no parameters and touches no store.
func (s *svc) getCountryCodes(context.Context, *tcapi.Request) (any, error) {
	return struct{ Data []countryCodeItem }{s.countries()}, nil
}
