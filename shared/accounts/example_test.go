package accounts_test

import (
	"fmt"

	"github.com/verifyfn/verifyfn/shared/accounts"
)

func ExampleParse() {
	const file = `accounts:
  - id: "300000000001"
    credentials:
      - id: AKIDSENDONLY
        secret: env:SEND_ONLY_KEY
        actions: ["intlpartnersmgt:SendVerifyCode"]
    products: [intlpartnersmgt]
`
	// In production: accounts.Load(path, os.LookupEnv).
	getenv := func(name string) (string, bool) {
		if name == "SEND_ONLY_KEY" {
			return "key-from-the-environment", true
		}
		return "", false
	}
	reg, err := accounts.Parse("accounts.yaml", []byte(file), getenv)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := reg.Credential("AKIDSENDONLY")
	fmt.Println(c.Account.ID, c.Secret)
	fmt.Println(c.Allowed("intlpartnersmgt", "SendVerifyCode"), c.Allowed("intlpartnersmgt", "CreateAccount"))

	_, err = accounts.Parse("accounts.yaml", []byte(file), nil)
	fmt.Println(err)
	// Output:
	// 300000000001 [redacted]
	// true false
	// accounts.yaml:5: credential "AKIDSENDONLY": secret: environment variable SEND_ONLY_KEY is not set
}
