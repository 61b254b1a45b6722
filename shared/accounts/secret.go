package accounts

import (
	"fmt"
	"log/slog"
)

// redacted is what every rendering of a Secret shows instead of its value.
const redacted = "[redacted]"

// Secret is a credential secret (a SecretKey or an AccessKeySecret).
//
// Its String, GoString, Format, slog LogValue and its JSON, YAML and text
// marshalling all give "[redacted]", whatever the verb or flags. The value
// is held by a closure, so even printers that reflect into unexported fields
// (fmt on a struct holding a Secret in an unexported field, including fmt's
// "%!s(...)" bad-verb output, or deep dumpers that follow pointers) show a
// function address, never the key. Only Bytes and Reveal give the key itself.
//
// The zero Secret is empty. Secrets are not comparable.
type Secret struct {
	key func() string
}

// NewSecret returns a Secret holding s. Parse builds the secrets of a
// registry; NewSecret is for code and tests that need one by hand.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{key: func() string { return s }}
}

// Bytes returns the raw key, for HMAC. It returns a fresh copy on each call,
// so the caller may keep or overwrite it.
func (s Secret) Bytes() []byte {
	if s.key == nil {
		return nil
	}
	return []byte(s.key())
}

// Reveal returns the key as a string. Never log or print the result.
func (s Secret) Reveal() string {
	if s.key == nil {
		return ""
	}
	return s.key()
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.key == nil }

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb and flag (%v, %+v, %#v, %s, %q,
// %x, %d, ...).
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue returns "[redacted]" as a slog string value.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns the JSON string "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalYAML returns "[redacted]" (gopkg.in/yaml.v3 Marshaler).
func (Secret) MarshalYAML() (any, error) { return redacted, nil }

// MarshalText returns "[redacted]", for encoders that use
// encoding.TextMarshaler.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
