package acsauth

import "strings"

const upperHex = "0123456789ABCDEF"

// unreserved reports whether c is an RFC 3986 unreserved character.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// PercentEncode encodes s as the Alibaba signatures do (RFC 3986): the
// unreserved characters A-Z a-z 0-9 - _ . ~ are kept, every other byte of the
// UTF-8 string becomes %XY with uppercase hex. So a space is %20, '*' is %2A,
// '+' is %2B and '~' stays.
func PercentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

// encodedLen returns len(PercentEncode(s)).
func encodedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n += 2
		}
	}
	return n
}

// appendPercentEncoded appends PercentEncode(s) to dst.
func appendPercentEncoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

// appendDoubleEncoded appends PercentEncode(PercentEncode(s)) to dst: every
// escape %XY of the first pass becomes %25XY.
func appendDoubleEncoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', '2', '5', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}
