//go:build verifyfn_providers && !provider_aliyun_sms

package setup

// aliyunSMSProvider is nil: this binary was built without provider_aliyun_sms.
func aliyunSMSProvider() builder { return nil }
