//go:build verifyfn_providers && !provider_smtp

package setup

// smtpProvider is nil: this binary was built without provider_smtp.
func smtpProvider() builder { return nil }
