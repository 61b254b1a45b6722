package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/verifyfn/verifyfn/internal/acsclient"
	"github.com/verifyfn/verifyfn/shared/services/cams"
)

// callAlibaba calls a cams action through the official darabonba client, as
// the generated cams SDK does: POST, parameters in the query, signed with
// ACS3-HMAC-SHA256 (--sign HMAC-SHA1 for the legacy RPC signature).
func callAlibaba(endpoint, id, secret, method, sign, action string, params map[string]any, stdout, stderr io.Writer) int {
	if method != "POST" {
		fmt.Fprintln(stderr, "verifyfn call: cams calls are POST requests (as the darabonba client sends them)")
		return 2
	}
	var alg string
	switch sign {
	case "", "ACS3-HMAC-SHA256":
	case "HMAC-SHA1", "HmacSHA1", "v2":
		alg = "v2"
	default:
		fmt.Fprintf(stderr, "verifyfn call: cams signs with ACS3-HMAC-SHA256 or HMAC-SHA1, not %q\n", sign)
		return 2
	}
	c, err := acsclient.New(acsclient.Options{Endpoint: endpoint, AccessKeyID: id, AccessKeySecret: secret, SignatureAlgorithm: alg})
	if err != nil {
		fmt.Fprintf(stderr, "verifyfn call: %v\n", err)
		return 1
	}
	resp, err := c.Call(action, cams.Version, params)
	var sdkErr *tea.SDKError
	switch {
	case err != nil && !errors.As(err, &sdkErr):
		// Not an API answer: the client could not reach the server.
		fmt.Fprintf(stderr, "verifyfn call: cannot reach http://%s/: %v\n", endpoint, err)
		return 1
	case errors.As(err, &sdkErr):
		// The SDK keeps the whole error body as Data; print it as received.
		var body any
		if sdkErr.Data == nil || json.Unmarshal([]byte(tea.StringValue(sdkErr.Data)), &body) != nil {
			body = map[string]string{"Code": tea.StringValue(sdkErr.Code), "Message": tea.StringValue(sdkErr.Message)}
		}
		printJSON(stdout, body)
		return 1
	}
	var pretty any
	json.Unmarshal(resp, &pretty)
	printJSON(stdout, pretty)
	return 0
}

// printJSON prints v indented, without escaping &, < and > (the Recommend
// links hold '&').
func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
