package control_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/config"
)

// chromium finds Debian's headless browser: the test skips without it, and
// fails when CI is set (make unit installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (make chromium installs Debian's)")
	}
	t.Skip("chromium is not installed (make chromium installs Debian's)")
	return ""
}

// browse opens a headless browser tab for the test, with the clipboard
// granted to origin.
func browse(t *testing.T, origin string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.WindowSize(900, 700), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	grant := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := cdp.Call(ctx, tg, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: origin,
			}); err != nil {
				return fmt.Errorf("granting %s: %w", name, err)
			}
		}
		return nil
	})
	if err := chromedp.Do(ctx, grant); err != nil { // the first run starts the browser: no timeout on it
		t.Fatal(err)
	}
	tctx, cancelT := context.WithTimeout(ctx, time.Minute) // generous: a bound on a stuck browser, not a speed check
	t.Cleanup(cancelT)
	return tctx
}

// until waits for a JavaScript predicate on the page, at most d by the
// browser's clock.
func until(t *testing.T, ctx context.Context, what, predicate string, d time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		var state string
		state, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent + " | " + document.getElementById("note").textContent + " | " + document.getElementById("list").innerText`))
		t.Fatalf("%s: %v (page: %s)", what, err, state)
	}
}

func shown(code string) string {
	return `[...document.querySelectorAll("#list .code")].some(e => e.textContent === ` + strconv.Quote(code) + `)`
}

// The dev inbox in a real browser: a code sent through the official SDK
// appears on the open page without a reload, the copy button copies it, the
// filter narrows the list to one destination, and clear empties it.
func TestInboxInBrowser(t *testing.T) {
	k := start(t, apitest.WithConfig(generous))
	ctx := browse(t, k.URL)
	if err := chromedp.Do(ctx, chromedp.Navigate(k.URL+"/_verifyfn/")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the page follows the stream", `document.getElementById("status").textContent === "live"`, 10*time.Second)

	if got := k.sendVerifyCode(t, "51234567"); got != "" {
		t.Fatalf("SendVerifyCode: %s", got)
	}
	first := k.latest(t, "+85251234567").Code
	until(t, ctx, "the code appears on the open page", shown(first), 2*time.Second)

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#list .copy"))); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the page reports the copy", `document.getElementById("note").textContent === "Copied `+first+`"`, 5*time.Second)
	clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("reading the clipboard: %v", err)
	}
	if clip != first {
		t.Fatalf("clipboard %q, want the code", clip)
	}

	if got := k.sendVerifyCode(t, "51234568"); got != "" {
		t.Fatalf("SendVerifyCode: %s", got)
	}
	second := k.latest(t, "+85251234568").Code
	until(t, ctx, "the second code appears", shown(second)+` && document.querySelectorAll("#list .msg").length === 2`, 2*time.Second)
	order, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#list .to").textContent`))
	if err != nil || order != "+85251234568" {
		t.Fatalf("newest first: the top message goes to %q (%v)", order, err)
	}

	// Readable on a phone: nothing wider than a 390 px window.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "no horizontal scroll at 390 px", `document.documentElement.scrollWidth <= 390`, 5*time.Second)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(900, 700)); err != nil {
		t.Fatal(err)
	}

	// Another spelling of the first number: the server's filter normalises it.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#to"), "00852 5123 4567")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the filter keeps one destination", `(() => { const l = [...document.querySelectorAll("#list .msg .to")];
		return l.length === 1 && l[0].textContent === "+85251234567"; })()`, 5*time.Second)

	// Advance clock by the duration in its field, then reset state.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#clock"))); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the clock moves", `document.getElementById("note").textContent.startsWith("Clock advanced: offset 11m")`, 5*time.Second)
	if c := k.advance(t, time.Second); time.Duration(c.Offset) != 11*time.Minute+time.Second {
		t.Fatalf("offset after the button and 1s more: %v", c.Offset)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#reset"))); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "reset", `document.getElementById("note").textContent === "State reset"`, 5*time.Second)
	if got := k.sendVerifyCode(t, "51234567"); got != "" { // no cooldown after the reset
		t.Fatalf("SendVerifyCode after reset: %s", got)
	}
	until(t, ctx, "the message after the reset appears", `document.querySelectorAll("#list .msg").length === 1`, 2*time.Second)

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#clear"))); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "clear empties the list", `document.querySelectorAll("#list .msg").length === 0 && document.getElementById("note").textContent === "List cleared"`, 5*time.Second)
	if m := k.messages(t, ""); len(m) != 0 {
		t.Fatalf("the server still lists %d messages after clear", len(m))
	}
}

// With a token the page loads (it holds no data), asks for the token, and
// then polls with it: a send still shows up.
func TestInboxInBrowserWithToken(t *testing.T) {
	const token = "control-token-0123456789"
	k := start(t, apitest.WithConfig(func(c *config.Config) { c.Control.Token = token }))
	ctx := browse(t, k.URL)
	if err := chromedp.Do(ctx, chromedp.Navigate(k.URL+"/_verifyfn/")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "without the token the page says so", `document.getElementById("note").textContent.startsWith("401")`, 10*time.Second)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#token"), token+"\t")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the page polls with the token", `document.getElementById("status").textContent === "live (polling)"`, 10*time.Second)
	if got := k.sendVerifyCode(t, "51234567"); got != "" {
		t.Fatalf("SendVerifyCode: %s", got)
	}
	k.token = token
	code := k.latest(t, "+85251234567").Code
	until(t, ctx, "the code appears", shown(code), 2*time.Second)
}

// TestInboxScreenshot writes docs/inbox.png's picture of the page with a few
// messages when VERIFYFN_INBOX_SCREENSHOT names the file:
//
//	VERIFYFN_INBOX_SCREENSHOT=$PWD/docs/inbox.png go test -run TestInboxScreenshot ./shared/control/
func TestInboxScreenshot(t *testing.T) {
	out := os.Getenv("VERIFYFN_INBOX_SCREENSHOT")
	if out == "" {
		t.Skip("VERIFYFN_INBOX_SCREENSHOT is not set")
	}
	k := start(t, apitest.WithConfig(generous))
	ctx := browse(t, k.URL)
	if err := chromedp.Do(ctx, chromedp.Navigate(k.URL+"/_verifyfn/")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the page follows the stream", `document.getElementById("status").textContent === "live"`, 10*time.Second)
	for _, got := range []string{k.sendVerifyCode(t, "51234567"), k.sendContactCode(t, "dev@example.com"), k.sendVerifyCode(t, "61234567")} {
		if got != "" {
			t.Fatalf("send: %s", got)
		}
	}
	until(t, ctx, "three messages", `document.querySelectorAll("#list .msg").length === 3`, 5*time.Second)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
