package label

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCredentialRoundTrip(t *testing.T) {
	k := fixedKey(t, 1, t0)
	c := sampleClaims()
	jws, err := Issue(c, k)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(jws, keysOf(k), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.Claims, c) {
		t.Errorf("claims changed in the round trip:\n got %+v\nwant %+v", v.Claims, c)
	}
	if v.Key.KID != k.KID || v.Hash != Hash(jws) || len(v.Hash) != 64 {
		t.Errorf("verified with %s, hash %q", v.Key.KID, v.Hash)
	}
	sum := sha256.Sum256([]byte(jws))
	if Hash(jws) != base16(sum[:]) {
		t.Error("Hash is not the SHA-256 of the compact JWS")
	}
}

func base16(b []byte) string {
	const hexdigits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(hexdigits[c>>4])
		s.WriteByte(hexdigits[c&15])
	}
	return s.String()
}

// The header and payload follow VC-JOSE-COSE and the VC 2.0 data model; the
// golden files pin the exact bytes another implementation would see.
func TestCredentialGolden(t *testing.T) {
	k := fixedKey(t, 1, t0)
	jws, err := Issue(sampleClaims(), k)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jws, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]string
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"alg": "EdDSA", "kid": k.KID, "typ": "vc+jwt", "cty": "vc"}; !reflect.DeepEqual(h, want) {
		t.Errorf("header %v, want %v", h, want)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, payload, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	golden(t, "label-credential.json", pretty.Bytes())
	golden(t, "label-credential.jws", []byte(jws+"\n"))

	var vc map[string]any
	json.Unmarshal(payload, &vc)
	status := vc["credentialStatus"].([]any)
	if len(status) != 2 {
		t.Fatalf("credentialStatus has %d entries, want 2", len(status))
	}
	for i, purpose := range []string{"revocation", "suspension"} {
		e := status[i].(map[string]any)
		if e["type"] != "BitstringStatusListEntry" || e["statusPurpose"] != purpose || e["statusListIndex"] != "94567" {
			t.Errorf("status entry %d: %v", i, e)
		}
	}
}

func TestCredentialVerifiesGoldenJWS(t *testing.T) {
	// A stored credential must keep verifying across releases.
	b, err := readGolden("label-credential.jws")
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(strings.TrimSpace(string(b)), keysOf(fixedKey(t, 1, t0)), t0.AddDate(1, 0, 0))
	if err != nil || v.Claims.LabelID != "LBL-2026-000042" {
		t.Fatalf("golden credential: %v", err)
	}
}

// flip changes the character at i to another base64url character.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestCredentialTampered(t *testing.T) {
	k := fixedKey(t, 1, t0)
	jws, _ := Issue(sampleClaims(), k)
	parts := strings.Split(jws, ".")
	start := len(parts[0]) + 1
	for _, i := range []int{start, start + len(parts[1])/2, start + len(parts[1]) - 2} {
		_, err := Verify(flip(jws, i), keysOf(k), t0)
		if !errors.Is(err, ErrBadSignature) {
			t.Errorf("payload byte %d flipped: got %v, want ErrBadSignature", i-start, err)
		}
	}
	// The signature's last character carries 4 unused bits; a lax decoder
	// would accept a variant with them set, which verifies as the same
	// credential under a different hash.
	sig := parts[2]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	variant := parts[0] + "." + parts[1] + "." + sig[:len(sig)-1] + string(alphabet[last^1])
	if _, err := Verify(variant, keysOf(k), t0); !errors.Is(err, ErrMalformed) {
		t.Errorf("non-canonical signature encoding: got %v, want ErrMalformed", err)
	}
	if _, err := Verify(jws+"\n", keysOf(k), t0); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing newline: got %v, want ErrMalformed", err)
	}
}

// forge builds a JWS with the given header, the genuine payload and sig.
func forge(header map[string]any, payload string, sig []byte) string {
	h, _ := json.Marshal(header)
	return base64.RawURLEncoding.EncodeToString(h) + "." + payload + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestCredentialAlgorithmRefused(t *testing.T) {
	k := fixedKey(t, 1, t0)
	jws, _ := Issue(sampleClaims(), k)
	payload := strings.Split(jws, ".")[1]
	hdr := func(alg string) map[string]any { return map[string]any{"alg": alg, "kid": k.KID, "typ": "vc+jwt"} }
	none := forge(hdr("none"), payload, nil) // "none" has an empty signature part
	// HS256 keyed with the public key: the classic key-confusion forgery.
	h, _ := json.Marshal(hdr("HS256"))
	input := base64.RawURLEncoding.EncodeToString(h) + "." + payload
	mac := hmac.New(sha256.New, k.Public().Key)
	mac.Write([]byte(input))
	hs := input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	for name, tok := range map[string]string{"none": none, "HS256": hs, "ES256": forge(hdr("ES256"), payload, make([]byte, 64)), "empty": forge(hdr(""), payload, []byte{1})} {
		_, err := Verify(tok, keysOf(k), t0)
		if !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), "only EdDSA") {
			t.Errorf("alg %s: got %v, want the algorithm refused", name, err)
		}
	}
}

func TestCredentialUnknownKey(t *testing.T) {
	signer, other := fixedKey(t, 1, t0), fixedKey(t, 2, t0)
	jws, _ := Issue(sampleClaims(), signer)
	if _, err := Verify(jws, keysOf(other), t0); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("got %v, want ErrUnknownKey", err)
	}
	// Another key published under the signer's kid does not verify it.
	impostor := PublicKeys{signer.KID: {KID: signer.KID, Key: other.Public().Key}}
	if _, err := Verify(jws, impostor, t0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong key under the right kid: got %v, want ErrBadSignature", err)
	}
	payload := strings.Split(jws, ".")[1]
	if _, err := Verify(forge(map[string]any{"alg": "EdDSA", "typ": "vc+jwt"}, payload, make([]byte, 64)), keysOf(signer), t0); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("no kid: got %v, want ErrUnknownKey", err)
	}
}

func TestCredentialValidityWindow(t *testing.T) {
	k := fixedKey(t, 1, t0)
	c := sampleClaims()
	jws, _ := Issue(c, k)
	for _, tc := range []struct {
		at   time.Time
		want error
	}{
		{c.ValidFrom.Add(-time.Hour), ErrNotYetValid},
		{c.ValidFrom.Add(-ClockSkew + time.Second), nil}, // a verifier's clock a little behind
		{c.ValidFrom, nil},
		{c.ValidUntil.Add(-time.Second), nil},
		{c.ValidUntil, ErrExpired},
		{c.ValidUntil.AddDate(1, 0, 0), ErrExpired},
	} {
		v, err := Verify(jws, keysOf(k), tc.at)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("at %v: got %v, want %v", tc.at, err, tc.want)
		}
		if v == nil {
			t.Errorf("at %v: no claims returned with a good signature", tc.at)
		}
	}
}

func TestCredentialMalformed(t *testing.T) {
	k := fixedKey(t, 1, t0)
	sign := func(vc any) string {
		b, _ := json.Marshal(vc)
		s, err := sign(b, k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good, _ := sampleClaims().Payload()
	var base map[string]any
	json.Unmarshal(good, &base)
	mutate := func(f func(m map[string]any)) string {
		var m map[string]any
		json.Unmarshal(good, &m)
		f(m)
		return sign(m)
	}
	for name, tok := range map[string]string{
		"two parts":         "a.b",
		"not base64":        "a.b!.c",
		"header not JSON":   base64.RawURLEncoding.EncodeToString([]byte("x")) + ".e30.AA",
		"payload not JSON":  sign([]string{"x"}),
		"wrong context":     mutate(func(m map[string]any) { m["@context"] = []string{"https://www.w3.org/2018/credentials/v1"} }),
		"not a label":       mutate(func(m map[string]any) { m["type"] = []string{"VerifiableCredential"} }),
		"no validFrom":      mutate(func(m map[string]any) { delete(m, "validFrom") }),
		"bad validUntil":    mutate(func(m map[string]any) { m["validUntil"] = "soon" }),
		"until before from": mutate(func(m map[string]any) { m["validUntil"] = "2020-01-01T00:00:00Z" }),
		"no status":         mutate(func(m map[string]any) { delete(m, "credentialStatus") }),
		"index not decimal": mutate(func(m map[string]any) {
			m["credentialStatus"].([]any)[0].(map[string]any)["statusListIndex"] = "-1"
		}),
		"no label id": mutate(func(m map[string]any) { delete(m["credentialSubject"].(map[string]any), "labelId") }),
	} {
		if _, err := Verify(tok, keysOf(k), t0); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	// A status list credential is not a label, though signed by the same key.
	bits, _ := NewBitstring(0)
	sl, _ := StatusListCredential(issuerURL+"/status/revocation/1", PurposeRevocation, bits, Issuer{ID: issuerURL}, t0, t0.Add(time.Hour))
	tok, _ := sl.Sign(k)
	if _, err := Verify(tok, keysOf(k), t0); !errors.Is(err, ErrMalformed) {
		t.Errorf("status list as a label: got %v, want ErrMalformed", err)
	}
}

func TestCredentialIssueRefusesIncompleteClaims(t *testing.T) {
	k := fixedKey(t, 1, t0)
	for name, f := range map[string]func(*LabelClaims){
		"no id":              func(c *LabelClaims) { c.ID = "" },
		"no issuer":          func(c *LabelClaims) { c.Issuer.ID = "" },
		"no revocation list": func(c *LabelClaims) { c.Revocation.ListURL = "" },
		"one list for both":  func(c *LabelClaims) { c.Suspension.ListURL = c.Revocation.ListURL },
		"until before from":  func(c *LabelClaims) { c.ValidUntil = c.ValidFrom.Add(-time.Hour) },
		"negative index":     func(c *LabelClaims) { c.Suspension.Index = -1 },
		"no validity start":  func(c *LabelClaims) { c.ValidFrom = time.Time{} },
		"no product name":    func(c *LabelClaims) { c.Product.Name = "" },
	} {
		c := sampleClaims()
		f(&c)
		if _, err := Issue(c, k); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
	if _, err := Issue(sampleClaims(), Key{KID: "x"}); err == nil {
		t.Error("issued with a key that has no private part")
	}
}

func TestCredentialParseUnverified(t *testing.T) {
	k := fixedKey(t, 1, t0)
	jws, _ := Issue(sampleClaims(), k)
	c, err := ParseUnverified(flip(jws, len(jws)-3)) // a bad signature does not matter here
	if err != nil || c.Issuer.ID != issuerURL || c.Revocation.ListURL != sampleClaims().Revocation.ListURL {
		t.Errorf("got %+v, %v", c, err)
	}
	if _, err := ParseUnverified("x.y"); !errors.Is(err, ErrMalformed) {
		t.Errorf("got %v, want ErrMalformed", err)
	}
}

func TestCredentialNewID(t *testing.T) {
	a, b := NewCredentialID(), NewCredentialID()
	if a == b || len(a) != len("urn:uuid:")+36 || a[len("urn:uuid:")+14] != '4' {
		t.Errorf("ids %q %q", a, b)
	}
}

// FuzzVerify feeds arbitrary tokens to the verifier. Whatever it gets, it
// must not panic, must return one of the documented errors, and must accept
// only the genuine credentials: no variant of one verifies. An input with
// NUL bytes is read as header NUL payload NUL signature, in clear, and
// encoded here, so that mutations reach the JSON behind the base64.
func FuzzVerify(f *testing.F) {
	k := fixedKey(f, 1, t0)
	genuine := map[string]bool{}
	c := sampleClaims()
	for i := range 3 {
		c.LabelID = "LBL-" + string(rune('A'+i))
		jws, err := Issue(c, k)
		if err != nil {
			f.Fatal(err)
		}
		genuine[jws] = true
		f.Add(jws)
		parts := strings.Split(jws, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(forge(map[string]any{"alg": "none", "kid": k.KID, "typ": "vc+jwt"}, parts[1], nil))
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		p, _ := base64.RawURLEncoding.DecodeString(parts[1])
		f.Add(string(h) + "\x00" + string(p) + "\x00" + parts[2])
	}
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJFZERTQSJ9.e30.AA")
	keys := keysOf(k)
	f.Fuzz(func(t *testing.T, tok string) {
		if clear := strings.Split(tok, "\x00"); len(clear) == 3 {
			tok = base64.RawURLEncoding.EncodeToString([]byte(clear[0])) + "." +
				base64.RawURLEncoding.EncodeToString([]byte(clear[1])) + "." + clear[2]
		}
		v, err := Verify(tok, keys, t0.Add(time.Hour))
		if err == nil {
			if !genuine[tok] {
				t.Fatalf("accepted a token that was never issued: %q", tok)
			}
			return
		}
		known := false
		for _, e := range []error{ErrMalformed, ErrBadSignature, ErrUnknownKey, ErrNotYetValid, ErrExpired} {
			known = known || errors.Is(err, e)
		}
		if !known {
			t.Fatalf("undocumented error %v", err)
		}
		if v != nil && !genuine[tok] {
			t.Fatalf("claims returned for a token that was never issued: %q", tok)
		}
		ParseUnverified(tok) // must not panic either
	})
}
