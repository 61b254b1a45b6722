package intlpartnersmgt

// CallingCodeRule is the function SendVerifyCode checks a calling code with
// (and GetCountryCodes lists by), under cfg with its defaults.
func CallingCodeRule(cfg Config) func(code int) error { return newSvc(cfg).callingCode }
