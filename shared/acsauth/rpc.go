package acsauth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
)

// RPCSignatureParam is the name of the parameter that carries the RPC
// signature; it is excluded from the string to sign.
const RPCSignatureParam = "Signature"

// RPCStringToSign returns the string to sign of the RPC signature
// (SignatureVersion 1.0):
//
//	METHOD + "&" + "%2F" + "&" + PercentEncode(CanonicalizedQueryString)
//
// where CanonicalizedQueryString joins with '&' the pairs
// PercentEncode(key) + "=" + PercentEncode(value) of every parameter in
// params except "Signature", sorted by key (byte order); an empty value gives
// "key=", and a key with several values gives one pair per value in the
// order given. params must hold the decoded parameters of the query and of a
// form body together. method is used as given (the SDKs send it uppercase).
func RPCStringToSign(method string, params url.Values) string {
	var keyBuf [32]string
	keys := sortedKeys(keyBuf[:0], params, RPCSignatureParam)
	return string(appendRPCStringToSign(make([]byte, 0, rpcSize(method, params, keys)), method, params, keys))
}

// RPCSignature returns base64(HMAC-SHA1(secret + "&", stringToSign)), the
// value of the Signature parameter.
func RPCSignature(secret []byte, stringToSign string) string {
	buf := make([]byte, sha1.BlockSize, sha1.BlockSize+len(stringToSign))
	buf = append(buf, stringToSign...)
	sum := hmacSHA1RPC(secret, buf)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// SignRPC sets params["Signature"] to the RPC signature of the other
// parameters. The caller fills in the common parameters first (AccessKeyId,
// Action, Version, Format, SignatureMethod, SignatureVersion,
// SignatureNonce, Timestamp, ...).
func SignRPC(secret []byte, method string, params url.Values) {
	params.Set(RPCSignatureParam, RPCSignature(secret, RPCStringToSign(method, params)))
}

// VerifyRPC checks the RPC signature of a request: it reads
// params.Get("Signature") (the base64 of a 20-byte HMAC-SHA1; a space is
// read as '+', for clients that forget to escape it), recomputes the
// signature over the other parameters with secret and compares the decoded
// bytes in constant time. params must hold the decoded query and form
// parameters together. It returns nil, ErrMissingSignature when the
// parameter is absent or empty, or ErrSignatureMismatch (also for an
// undecodable or repeated Signature).
func VerifyRPC(secret []byte, method string, params url.Values) error {
	sigs := params[RPCSignatureParam]
	if len(sigs) == 0 || sigs[0] == "" {
		return ErrMissingSignature
	}
	if len(sigs) > 1 {
		return ErrSignatureMismatch
	}
	var want [sha1.Size]byte
	if !decodeRPCSignature(&want, sigs[0]) {
		return ErrSignatureMismatch
	}
	var keyBuf [32]string
	keys := sortedKeys(keyBuf[:0], params, RPCSignatureParam)
	buf := make([]byte, sha1.BlockSize, sha1.BlockSize+rpcSize(method, params, keys))
	buf = appendRPCStringToSign(buf, method, params, keys)
	got := hmacSHA1RPC(secret, buf)
	if !hmac.Equal(got[:], want[:]) {
		return ErrSignatureMismatch
	}
	return nil
}

// decodeRPCSignature decodes the standard base64 (padded) of 20 bytes.
func decodeRPCSignature(dst *[sha1.Size]byte, s string) bool {
	const encLen = (sha1.Size + 2) / 3 * 4 // 28
	if len(s) != encLen {
		return false
	}
	var src [encLen]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			c = '+'
		}
		src[i] = c
	}
	var out [encLen]byte
	n, err := base64.StdEncoding.Decode(out[:], src[:])
	if err != nil || n != sha1.Size {
		return false
	}
	copy(dst[:], out[:n])
	return true
}

// hmacSHA1RPC computes HMAC-SHA1(secret + "&", msg) with crypto/hmac, where
// msg starts at buf[sha1.BlockSize:] (the first block of buf is unused).
func hmacSHA1RPC(secret, buf []byte) [sha1.Size]byte {
	key := make([]byte, 0, len(secret)+1)
	key = append(append(key, secret...), '&')
	m := hmac.New(sha1.New, key)
	m.Write(buf[sha1.BlockSize:])
	var out [sha1.Size]byte
	m.Sum(out[:0])
	return out
}

// doubleEncodedLen returns len(PercentEncode(PercentEncode(s))).
func doubleEncodedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n += 4
		}
	}
	return n
}

func rpcSize(method string, params url.Values, keys []string) int {
	n := len(method) + len("&%2F&")
	for _, k := range keys {
		kl := doubleEncodedLen(k) + len("%3D") + len("%26")
		for _, v := range params[k] {
			n += kl + doubleEncodedLen(v)
		}
	}
	return n
}

// appendRPCStringToSign appends the string to sign to dst. The
// canonicalized query string is encoded twice in one pass: unreserved bytes
// stay, every other byte of a key or value becomes %25XY, '=' becomes %3D
// and '&' %26.
func appendRPCStringToSign(dst []byte, method string, params url.Values, keys []string) []byte {
	dst = append(dst, method...)
	dst = append(dst, "&%2F&"...)
	first := true
	for _, k := range keys {
		for _, v := range params[k] {
			if !first {
				dst = append(dst, "%26"...)
			}
			first = false
			dst = appendDoubleEncoded(dst, k)
			dst = append(dst, "%3D"...)
			dst = appendDoubleEncoded(dst, v)
		}
	}
	return dst
}
