package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
)

func runOut(args ...string) (int, string) {
	var out, errs bytes.Buffer
	code := run(context.Background(), args, func(string) string { return "" }, &out, &errs)
	return code, out.String() + errs.String()
}

// TestHelp: the top-level help names every subcommand; each subcommand's
// help lists all its flags and their values.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		code, out := runOut(args...)
		if code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		for _, want := range []string{"verifyfn [serve]", "verifyfn call", "verifyfn bench", "--addr", "--accounts", "--cpuprofile"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: the help lacks %q:\n%s", args, want, out)
			}
		}
	}
	for _, args := range [][]string{{"call", "--help"}, {"help", "call"}} {
		code, out := runOut(args...)
		if code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		for _, want := range []string{"--endpoint", "--secret-id", "--secret-key", "--method POST|GET", "--sign", "--language",
			"TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1", "ACS3-HMAC-SHA256", "HMAC-SHA1",
			"intlpartnersmgt 2022-09-28", "GetTradeConfigList", "smh             2021-07-12", "domain          2018-08-08", "cams            2020-06-06"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: the help lacks %q:\n%s", args, want, out)
			}
		}
	}
	code, out := runOut("bench", "--help")
	for _, want := range []string{"-mix", "-rate", "-target", "-store", "-soak", "-spawn", "-spawn-dir", "-server-cpuprofile"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench --help lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	if code, out := runOut("frobnicate"); code != 2 || !strings.Contains(out, "unknown command") {
		t.Errorf("an unknown command: exit %d:\n%s", code, out)
	}
}

// TestCallNamesTheUnreachableEndpoint: a call to a port where nothing listens
// says which address it tried and why it failed, for both clients.
func TestCallNamesTheUnreachableEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, args := range [][]string{
		{"call", "--endpoint", addr, "intlpartnersmgt", "SendVerifyCode", "CountryCode=852", "PhoneNum=51234567"},
		{"call", "--endpoint", addr, "cams", "GetChatappVerifyCode", "CustSpaceId=cams-kei123"},
	} {
		code, out := runOut(args...)
		if code != 1 || !strings.Contains(out, "cannot reach http://"+addr+"/") || !strings.Contains(out, "connection refused") {
			t.Errorf("%s: exit %d:\n%s", args[3], code, out)
		}
	}
}
