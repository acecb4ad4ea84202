package label

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestStatusListBitOrder(t *testing.T) {
	bs, err := NewBitstring(0)
	if err != nil {
		t.Fatal(err)
	}
	last := bs.Len() - 1
	// The spec: index 0 is the left-most bit of the first byte.
	for _, tc := range []struct {
		index, byteAt int
		want          byte
	}{{0, 0, 0x80}, {7, 0, 0x01}, {8, 1, 0x80}, {last, last / 8, 0x01}} {
		bs, _ := NewBitstring(0)
		if err := bs.Set(tc.index, true); err != nil {
			t.Fatal(err)
		}
		raw := bs.Bytes()
		if raw[tc.byteAt] != tc.want {
			t.Errorf("bit %d: byte %d is %#02x, want %#02x", tc.index, tc.byteAt, raw[tc.byteAt], tc.want)
		}
		if n := bytes.Count(raw, []byte{0}); n != len(raw)-1 {
			t.Errorf("bit %d: %d bytes changed, want 1", tc.index, len(raw)-n)
		}
		for _, i := range []int{0, 7, 8, last} {
			got, err := bs.Get(i)
			if err != nil || got != (i == tc.index) {
				t.Errorf("bit %d set: Get(%d) = %v, %v", tc.index, i, got, err)
			}
		}
		if err := bs.Set(tc.index, false); err != nil {
			t.Fatal(err)
		}
		if got, _ := bs.Get(tc.index); got {
			t.Errorf("bit %d still set after clearing", tc.index)
		}
	}
	for _, i := range []int{-1, last + 1} {
		if _, err := bs.Get(i); !errors.Is(err, ErrStatusList) {
			t.Errorf("Get(%d): %v, want a range error", i, err)
		}
		if err := bs.Set(i, true); !errors.Is(err, ErrStatusList) {
			t.Errorf("Set(%d): %v, want a range error", i, err)
		}
	}
}

func TestStatusListMinimumSize(t *testing.T) {
	for _, n := range []int{0, 1, 1000, MinListBits} {
		bs, _ := NewBitstring(n)
		if bs.Len() != MinListBits {
			t.Errorf("NewBitstring(%d) has %d entries, want the minimum %d", n, bs.Len(), MinListBits)
		}
	}
	if bs, _ := NewBitstring(MinListBits + 1); bs.Len() != MinListBits+8 {
		t.Errorf("NewBitstring(min+1) has %d entries, want whole bytes", bs.Len())
	}
	if _, err := NewBitstring(MaxListBytes*8 + 1); err == nil {
		t.Error("made a list over the size limit")
	}
	// A list shorter than the minimum would shrink the crowd a label hides in.
	if _, err := DecodeList(encodeRaw(t, make([]byte, MinListBits/8-1))); err == nil || !strings.Contains(err.Error(), "minimum") {
		t.Errorf("short list: %v, want refused", err)
	}
}

func encodeRaw(t testing.TB, raw []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func TestStatusListEncodeDecode(t *testing.T) {
	bs, _ := NewBitstring(2 * MinListBits)
	set := []int{0, 7, 8, 94567, bs.Len() - 1}
	for _, i := range set {
		bs.Set(i, true)
	}
	enc, err := bs.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if enc[0] != 'u' || strings.ContainsAny(enc, "+/=") {
		t.Errorf("encodedList %q… is not multibase base64url without padding", enc[:10])
	}
	again, _ := bs.Encode()
	if again != enc {
		t.Error("encoding the same list twice gave different strings")
	}
	got, err := DecodeList(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), bs.Bytes()) {
		t.Error("round trip changed the list")
	}
	// The spec's own example: a 16 KiB list of zeros.
	spec, err := DecodeList("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
	if err != nil || spec.Len() != MinListBits || bytes.Count(spec.Bytes(), []byte{0}) != MinListBits/8 {
		t.Errorf("spec example: %v", err)
	}
}

func TestStatusListDecodeRefuses(t *testing.T) {
	bomb := encodeRaw(t, make([]byte, MaxListBytes+1))
	if len(bomb) > 64<<10 {
		t.Fatalf("test bomb is %d bytes; it should be small", len(bomb))
	}
	if _, err := DecodeList(bomb); !errors.Is(err, ErrStatusList) || !strings.Contains(err.Error(), "expands past") {
		t.Errorf("gzip bomb: %v, want refused", err)
	}
	ok := encodeRaw(t, make([]byte, MinListBits/8))
	for name, s := range map[string]string{
		"no multibase prefix": ok[1:],
		"base58 prefix":       "z" + ok[1:],
		"not base64url":       "u***",
		"not gzip":            "u" + base64.RawURLEncoding.EncodeToString(make([]byte, 20000)),
		"truncated gzip":      ok[:len(ok)-6],
		"too long":            "u" + strings.Repeat("A", maxEncodedList),
	} {
		if _, err := DecodeList(s); !errors.Is(err, ErrStatusList) {
			t.Errorf("%s: %v, want ErrStatusList", name, err)
		}
	}
}

func TestStatusListCredential(t *testing.T) {
	k := fixedKey(t, 1, t0)
	bits, _ := NewBitstring(0)
	bits.Set(94567, true)
	listURL := issuerURL + "/status/revocation/1"
	vc, err := StatusListCredential(listURL, PurposeRevocation, bits, Issuer{ID: issuerURL}, t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := vc.Sign(k)
	if err != nil {
		t.Fatal(err)
	}
	fetched := t0.Add(time.Hour)
	snap, err := VerifyStatusList(jws, keysOf(k), fetched)
	if err != nil {
		t.Fatal(err)
	}
	if snap.URL != listURL || snap.Purpose != PurposeRevocation || snap.KID != k.KID || !snap.AsOf().Equal(fetched) {
		t.Errorf("snapshot %+v", snap)
	}
	if on, _ := snap.Bits.Get(94567); !on {
		t.Error("the set bit did not survive signing")
	}
	if _, err := VerifyStatusList(jws, keysOf(k), t0.Add(25*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Errorf("expired list: %v", err)
	}
	if _, err := VerifyStatusList(flip(jws, len(jws)/2), keysOf(k), fetched); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered list: %v", err)
	}
	// A label is not a status list.
	label, _ := Issue(sampleClaims(), k)
	if _, err := VerifyStatusList(label, keysOf(k), fetched); !errors.Is(err, ErrMalformed) {
		t.Errorf("label as a status list: %v", err)
	}
	payload, _ := vc.Payload()
	for _, want := range []string{`"type":["VerifiableCredential","BitstringStatusListCredential"]`, `"type":"BitstringStatusList"`,
		`"statusPurpose":"revocation"`, `"id":"` + listURL + `#list"`, `"encodedList":"u`} {
		if !strings.Contains(string(payload), want) {
			t.Errorf("payload lacks %s", want)
		}
	}
	for name, f := range map[string]func() (*StatusListVC, error){
		"unknown purpose": func() (*StatusListVC, error) {
			return StatusListCredential(listURL, "refresh", bits, Issuer{ID: issuerURL}, t0, time.Time{})
		},
		"one-bit message list": func() (*StatusListVC, error) {
			return StatusListCredential(listURL, PurposeMessage, bits, Issuer{ID: issuerURL}, t0, time.Time{})
		},
		"no list": func() (*StatusListVC, error) {
			return StatusListCredential(listURL, PurposeRevocation, nil, Issuer{ID: issuerURL}, t0, time.Time{})
		},
		"short list": func() (*StatusListVC, error) {
			return StatusListCredential(listURL, PurposeRevocation, &Bitstring{b: make([]byte, 8)}, Issuer{ID: issuerURL}, t0, time.Time{})
		},
		"no issuer": func() (*StatusListVC, error) {
			return StatusListCredential(listURL, PurposeRevocation, bits, Issuer{}, t0, time.Time{})
		},
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzDecodeList: any input either decodes to a list within the limits that
// re-encodes to the same bits, or is refused with ErrStatusList.
func FuzzDecodeList(f *testing.F) {
	bs, _ := NewBitstring(0)
	bs.Set(3, true)
	enc, _ := bs.Encode()
	f.Add(enc)
	f.Add("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
	f.Add(encodeRaw(f, make([]byte, 100)))
	f.Add("u")
	f.Add("")
	f.Add("uH4sI")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := DecodeList(s)
		if err != nil {
			if !errors.Is(err, ErrStatusList) {
				t.Fatalf("error %v does not wrap ErrStatusList", err)
			}
			return
		}
		if got.Len() < MinListBits || got.Len() > MaxListBytes*8 {
			t.Fatalf("decoded %d entries, outside the limits", got.Len())
		}
		re, err := got.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeList(re)
		if err != nil || !bytes.Equal(back.Bytes(), got.Bytes()) {
			t.Fatalf("re-encoding changed the list: %v", err)
		}
	})
}
