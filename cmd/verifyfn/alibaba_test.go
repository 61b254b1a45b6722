package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/internal/apitest"
)

// TestCallCams runs "verifyfn call cams ..." against a test server, with
// both signatures, and checks the printed answers.
func TestCallCams(t *testing.T) {
	s := apitest.Start(t)
	getenv := func(string) string { return "" }
	call := func(args ...string) (int, string) {
		var out, errs bytes.Buffer
		code := run(context.Background(), append([]string{"call", "--endpoint", s.Host}, args...), getenv, &out, &errs)
		return code, out.String() + errs.String()
	}
	code, out := call("cams", "GetChatappVerifyCode", "CustSpaceId=cams-kei123", "PhoneNumber=85251234567", "Method=sms", "Locale=en")
	if code != 0 || !strings.Contains(out, `"Code": "OK"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out = call("--sign", "HMAC-SHA1", "cams", "GetChatappVerifyCode", "CustSpaceId=cams-kei123", "PhoneNumber=85251234567", "Method=sms", "Locale=en")
	if code != 1 || !strings.Contains(out, `"Code": "System.LimitControl"`) || !strings.Contains(out, "&product=Cams") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	vc := s.LastCode(t, "+85251234567")
	code, out = call("cams", "ChatappVerifyAndRegister", "CustSpaceId=cams-kei123", "PhoneNumber=85251234567", "VerifyCode="+vc)
	if code != 0 || !strings.Contains(out, `"Success": true`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if code, out = call("--method", "GET", "cams", "GetChatappVerifyCode"); code != 2 {
		t.Fatalf("GET: exit %d:\n%s", code, out)
	}
}
