//go:build verifyfn_providers && !provider_twilio

package setup

// twilioSMSProvider is nil: this binary was built without provider_twilio.
func twilioSMSProvider() builder { return nil }

// twilioVoiceProvider is nil: this binary was built without provider_twilio.
func twilioVoiceProvider() builder { return nil }
