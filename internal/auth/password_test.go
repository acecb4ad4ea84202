package auth

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func testHasher(t testing.TB, p Params) *Hasher {
	t.Helper()
	h, err := NewHasher(p)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashAndCheck(t *testing.T) {
	h := testHasher(t, TestParams)
	const pw = "correct horse battery staple"
	hash, err := h.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !phcRE.MatchString(hash) {
		t.Fatalf("hash %q is not a PHC argon2id string with the test params", hash)
	}
	ok, rehash, err := h.Check(hash, pw)
	if !ok || rehash || err != nil {
		t.Fatalf("Check(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", pw + " "} {
		ok, rehash, err := h.Check(hash, wrong)
		if ok || rehash || err != nil {
			t.Errorf("Check(%q) = %v, %v, %v; want false, false, nil", wrong, ok, rehash, err)
		}
	}
	again, _ := h.Hash(pw)
	if again == hash {
		t.Error("two hashes of one password are equal: salt is not random")
	}
}

func TestDefaultParams(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB argon2 in -short mode")
	}
	hash, err := HashPassword("a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Fatalf("default hash %q does not carry RFC 9106 option 2 parameters", hash)
	}
	if ok, rehash, err := CheckPassword(hash, "a long enough passphrase"); !ok || rehash || err != nil {
		t.Fatalf("CheckPassword = %v, %v, %v", ok, rehash, err)
	}
	if ok, _, _ := CheckPassword(hash, "another passphrase"); ok {
		t.Fatal("wrong password accepted")
	}
	CheckDummy("whatever") // must not panic with the default hasher
}

func TestHashRefusesOutOfRange(t *testing.T) {
	h := testHasher(t, TestParams)
	if _, err := h.Hash(""); !errors.Is(err, ErrPasswordTooShort) {
		t.Errorf("Hash(\"\") err = %v", err)
	}
	if _, err := h.Hash(strings.Repeat("ab", 129)); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("Hash(258 bytes) err = %v", err)
	}
}

func TestCheckMalformed(t *testing.T) {
	h := testHasher(t, TestParams)
	good, _ := h.Hash("a fine password")
	f := strings.Split(good, "$") // "", argon2id, v=19, params, salt, hash
	salt, key := f[4], f[5]
	with := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }
	cases := map[string]string{
		"empty":             "",
		"plain text":        "a fine password",
		"bcrypt":            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":           "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"argon2d":           "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"version 16":        "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":        "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"missing hash":      "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"missing salt":      "$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"extra field":       good + "$AAAA",
		"no leading $":      strings.TrimPrefix(good, "$"),
		"params reordered":  with("t=1,m=64,p=1"),
		"param missing":     with("m=64,t=1"),
		"param extra":       with("m=64,t=1,p=1,k=2"),
		"leading zero":      with("m=064,t=1,p=1"),
		"plus sign":         with("m=+64,t=1,p=1"),
		"negative":          with("m=-64,t=1,p=1"),
		"empty number":      with("m=,t=1,p=1"),
		"hex":               with("m=0x40,t=1,p=1"),
		"m max uint32":      with("m=4294967295,t=1,p=1"),
		"m over uint32":     with("m=4294967296,t=1,p=1"),
		"m 1 TiB":           with("m=1073741824,t=1,p=1"),
		"m 512 MiB":         with("m=524288,t=1,p=1"),
		"m below 8p":        with("m=15,t=1,p=2"),
		"t zero":            with("m=64,t=0,p=1"),
		"t huge":            with("m=64,t=4294967295,p=1"),
		"p zero":            with("m=64,t=1,p=0"),
		"p 255":             with("m=4096,t=1,p=255"),
		"p 256":             with("m=4096,t=1,p=256"),
		"work over cap":     with("m=262144,t=16,p=1"),
		"salt bad base64":   "$argon2id$v=19$m=64,t=1,p=1$!!!!notbase64!!!!!!!!!$" + key,
		"salt padded":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"salt url base64":   "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("-", 22) + "$" + key,
		"salt too short":    "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$" + key,
		"salt too long":     "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 100) + "$" + key,
		"hash too short":    "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAA",
		"hash bad base64":   "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:42] + "*",
		"hash non-zero pad": "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:42] + "B",
		"very long":         good + strings.Repeat("A", 10000),
		"newline in hash":   "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:6] + "\n" + key[6:],
		"CR in salt":        "$argon2id$v=19$m=64,t=1,p=1$" + salt[:6] + "\r" + salt[6:] + "$" + key,
	}
	for name, hash := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			ok, rehash, err := h.Check(hash, "a fine password")
			if !errors.Is(err, ErrMalformedHash) || ok || rehash {
				t.Fatalf("Check(%q) = %v, %v, %v; want false, false, ErrMalformedHash", hash, ok, rehash, err)
			}
			// Refused by parsing, before any argon2 work or allocation.
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("refusing took %v", d)
			}
		})
	}
}

func TestParseCanonicalRoundTrip(t *testing.T) {
	h := testHasher(t, TestParams)
	hash, _ := h.Hash("round trip password")
	ph, err := h.parse(hash)
	if err != nil {
		t.Fatal(err)
	}
	if ph.String() != hash || ph.p != TestParams {
		t.Fatalf("parse/String round trip: %q → %+v → %q", hash, ph.p, ph.String())
	}
}

func TestNeedsRehash(t *testing.T) {
	old := testHasher(t, TestParams)
	const pw = "upgrade me please"
	hash, _ := old.Hash(pw)

	for name, p := range map[string]Params{
		"more passes": {Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		"more memory": {Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		"more lanes":  {Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		"longer salt": {Memory: 64, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 32},
		"shorter key": {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16},
		"same params": TestParams, // control: no rehash
	} {
		t.Run(name, func(t *testing.T) {
			h := testHasher(t, p)
			ok, rehash, err := h.Check(hash, pw)
			if !ok || err != nil {
				t.Fatalf("old hash no longer verifies: %v, %v", ok, err)
			}
			if want := p != TestParams; rehash != want {
				t.Fatalf("needsRehash = %v, want %v", rehash, want)
			}
			// A wrong password never asks for a rehash: we could not do it.
			if ok, rehash, _ := h.Check(hash, "wrong"); ok || rehash {
				t.Fatalf("wrong password: ok=%v rehash=%v", ok, rehash)
			}
			// After rehashing with the new params, no further rehash.
			newHash, _ := h.Hash(pw)
			if ok, rehash, _ := h.Check(newHash, pw); !ok || rehash {
				t.Fatalf("new hash: ok=%v rehash=%v", ok, rehash)
			}
		})
	}
}

func TestNewHasherRejects(t *testing.T) {
	for name, p := range map[string]Params{
		"zero":        {},
		"t 0":         {Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		"p 0":         {Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		"m < 8p":      {Memory: 8, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		"m too big":   {Memory: 1 << 20, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		"work":        {Memory: 256 * 1024, Time: 4, Threads: 1, SaltLen: 16, KeyLen: 32},
		"short salt":  {Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 32},
		"short key":   {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
		"long key":    {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 65},
		"many lanes":  {Memory: 4096, Time: 1, Threads: 17, SaltLen: 16, KeyLen: 32},
		"many passes": {Memory: 64, Time: 17, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		if _, err := NewHasher(p); err == nil {
			t.Errorf("%s: NewHasher(%+v) accepted", name, p)
		}
	}
	if _, err := NewHasher(DefaultParams); err != nil {
		t.Errorf("DefaultParams refused: %v", err)
	}
}

func TestCheckDummy(t *testing.T) {
	h := testHasher(t, TestParams)
	// The dummy must cost what a real check costs: same parameters.
	if h.dummy.p != h.params || len(h.dummy.salt) != int(h.params.SaltLen) || len(h.dummy.key) != int(h.params.KeyLen) {
		t.Fatalf("dummy %+v does not match params %+v", h.dummy.p, h.params)
	}
	// And nothing verifies against it, not even the empty password.
	for _, pw := range []string{"", "password", "a fine password"} {
		h.CheckDummy(pw)
		if ok, _, err := h.Check(h.dummy.String(), pw); ok || err != nil {
			t.Fatalf("dummy matched %q (err %v)", pw, err)
		}
	}
	other := testHasher(t, TestParams)
	if other.dummy.String() == h.dummy.String() {
		t.Fatal("dummy is not random per hasher")
	}
}

func TestHasherConcurrent(t *testing.T) {
	h := testHasher(t, TestParams)
	hash, _ := h.Hash("shared password")
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			pw := "shared password"
			if i%2 == 1 {
				pw = "not the password"
			}
			ok, _, err := h.Check(hash, pw)
			if err != nil || ok != (i%2 == 0) {
				t.Errorf("goroutine %d: ok=%v err=%v", i, ok, err)
			}
		})
	}
	wg.Wait()
	if n := len(h.slots); n != 0 {
		t.Fatalf("%d hashing slots leaked", n)
	}
}

func TestValidatePassword(t *testing.T) {
	cases := []struct {
		pw   string
		want error
	}{
		{"", ErrPasswordTooShort},
		{"short", ErrPasswordTooShort},
		{"elevenchars", ErrPasswordTooShort},
		{"twelve chars", nil},
		{"correct horse battery staple", nil},
		{strings.Repeat("a", 12), ErrPasswordOneChar},
		{strings.Repeat("é", 12), ErrPasswordOneChar},
		{strings.Repeat(" ", 40), ErrPasswordOneChar},
		{strings.Repeat("a", 11) + "b", nil},
		{"éèéèéèé", nil}, // 7 letters but 14 bytes: the limit is in bytes
		{strings.Repeat("ab", 128), nil},
		{strings.Repeat("ab", 128) + "c", ErrPasswordTooLong},
		{"valid start \xff\xfe bytes", ErrPasswordEncoding},
	}
	for _, c := range cases {
		if err := ValidatePassword(c.pw); err != c.want {
			t.Errorf("ValidatePassword(%q) = %v, want %v", c.pw, err, c.want)
		}
	}
	// Messages are shown to people: they must say what to do.
	if !strings.Contains(ErrPasswordTooShort.Error(), "at least 12") {
		t.Errorf("unhelpful message: %v", ErrPasswordTooShort)
	}
}

// FuzzCheckPassword throws arbitrary strings at the hash parser. It must
// never panic, must only fail with ErrMalformedHash, and anything it accepts
// must be the one canonical spelling of that hash. Its limits are shrunk so
// that a hash the fuzzer makes valid still verifies in microseconds.
func FuzzCheckPassword(f *testing.F) {
	h := testHasher(f, TestParams)
	h.lim = limits{memory: 256, time: 2, threads: 4, work: 512}
	good, _ := h.Hash("fuzz password")
	for _, s := range []string{
		good,
		"",
		"$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=4294967295,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=1$$",
		"$argon2id$$$$$",
		"$argon2i$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
	} {
		f.Add(s, "fuzz password")
	}
	f.Fuzz(func(t *testing.T, hash, pw string) {
		ok, rehash, err := h.Check(hash, pw)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) || ok || rehash {
				t.Fatalf("Check(%q) = %v, %v, %v", hash, ok, rehash, err)
			}
			return
		}
		ph, err := h.parse(hash)
		if err != nil {
			t.Fatalf("Check accepted %q but parse refuses it: %v", hash, err)
		}
		if ph.String() != hash {
			t.Fatalf("accepted non-canonical %q (canonical %q)", hash, ph.String())
		}
	})
}
