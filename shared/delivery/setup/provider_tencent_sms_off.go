//go:build verifyfn_providers && !provider_tencent_sms

package setup

// tencentSMSProvider is nil: this binary was built without provider_tencent_sms.
func tencentSMSProvider() builder { return nil }
