package domain_test

import "github.com/verifyfn/verifyfn/shared/accounts"

func parseAccounts(yaml string) (*accounts.Registry, error) {
	return accounts.Parse("test.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
}
