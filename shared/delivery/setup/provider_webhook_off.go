//go:build verifyfn_providers && !provider_webhook

package setup

// webhookProvider is nil: this binary was built without provider_webhook.
func webhookProvider() builder { return nil }
