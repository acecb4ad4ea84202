package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters. Memory is in KiB, as in the PHC
// string's m=; Time is the number of passes; Threads the number of lanes.
type Params struct {
	Memory  uint32
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams is RFC 9106 §4's second recommended option (64 MiB, 3 passes,
// 4 lanes, 128-bit salt, 256-bit tag). The first option needs 2 GiB per
// login, which a small server cannot afford under concurrent logins; 64 MiB
// is also above OWASP's 19-46 MiB floor. On a 2-core machine a hash takes a
// few tens of milliseconds, which a person logging in does not notice.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}

// TestParams are cheap parameters for tests only: they keep the real code
// path but make a hash take microseconds. Never use them in production.
var TestParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on what a stored hash (or a Hasher) may ask for. A hash string comes
// from the database, which an attacker with partial write access (or a bad
// import) may control; without these caps m=4294967295 would make us try to
// allocate 4 TiB. The work cap allows four times the default cost so that
// hashes made under stronger parameters still verify after a downgrade.
const (
	maxMemoryKiB = 256 * 1024
	maxTime      = 16
	maxThreads   = 16
	maxWork      = 4 * 64 * 1024 * 3 // KiB × passes
	minSaltLen   = 16
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
	maxHashLen   = 256 // longest PHC string accepted; real ones are ~100
)

// Password policy bounds, in bytes. Bytes rather than characters because
// that is what the hash consumes; the lower bound is NIST SP 800-63B's 8
// raised to 12 for accounts that can grant or revoke labels.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// Errors from ValidatePassword (and HashPassword for out-of-range input).
// The messages are meant to be shown to the person choosing the password.
var (
	ErrPasswordTooShort = fmt.Errorf("password is too short: use at least %d characters", MinPasswordLen)
	ErrPasswordTooLong  = fmt.Errorf("password is too long: use at most %d characters (accented and non-Latin letters count as several)", MaxPasswordLen)
	ErrPasswordOneChar  = errors.New("password is a single character repeated: choose something harder to guess")
	ErrPasswordEncoding = errors.New("password is not valid UTF-8 text")
)

// ErrMalformedHash wraps every reason a stored hash string is refused.
var ErrMalformedHash = errors.New("malformed password hash")

// ValidatePassword applies the password policy when a password is set. It
// deliberately has no composition rules (NIST SP 800-63B §3.1.1.2): length
// is what resists guessing; composition rules only make people predictable.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLen {
		return ErrPasswordTooShort
	}
	if len(pw) > MaxPasswordLen {
		return ErrPasswordTooLong
	}
	if !utf8.ValidString(pw) {
		return ErrPasswordEncoding
	}
	first, _ := utf8.DecodeRuneInString(pw)
	for _, r := range pw {
		if r != first {
			return nil
		}
	}
	return ErrPasswordOneChar
}

// A Hasher hashes and verifies passwords with fixed parameters. It is safe
// for concurrent use. Most callers use the package functions, which use
// DefaultParams; tests build one with TestParams.
type Hasher struct {
	params Params
	lim    limits
	// slots bounds concurrent argon2 runs so that a burst of logins costs at
	// most len(slots) × Memory, not one 64 MiB allocation per request.
	slots chan struct{}
	// dummy is random bytes in the shape of a hash: verifying against it
	// costs exactly what a real check costs, and no password matches it.
	dummy phc
}

type limits struct {
	memory, time uint32
	threads      uint8
	work         uint64
}

var defaultLimits = limits{memory: maxMemoryKiB, time: maxTime, threads: maxThreads, work: maxWork}

type phc struct {
	p    Params
	salt []byte
	key  []byte
}

// NewHasher returns a Hasher for p, or an error if p is outside the limits
// a stored hash may use (so everything we write, we can also read back).
func NewHasher(p Params) (*Hasher, error) {
	if err := defaultLimits.check(p); err != nil {
		return nil, err
	}
	if p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen || p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen {
		return nil, fmt.Errorf("argon2 params: salt must be %d-%d bytes and key %d-%d bytes", minSaltLen, maxSaltLen, minKeyLen, maxKeyLen)
	}
	h := &Hasher{
		params: p,
		lim:    defaultLimits,
		slots:  make(chan struct{}, min(max(runtime.GOMAXPROCS(0), 2), 8)),
		dummy:  phc{p: p, salt: randomBytes(int(p.SaltLen)), key: randomBytes(int(p.KeyLen))},
	}
	return h, nil
}

func (l limits) check(p Params) error {
	switch {
	case p.Time < 1 || p.Time > l.time:
		return fmt.Errorf("argon2 params: t=%d out of range 1-%d", p.Time, l.time)
	case p.Threads < 1 || p.Threads > l.threads:
		return fmt.Errorf("argon2 params: p=%d out of range 1-%d", p.Threads, l.threads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > l.memory:
		// argon2 silently raises m below 8p; refusing keeps m= truthful.
		return fmt.Errorf("argon2 params: m=%d out of range %d-%d", p.Memory, 8*uint32(p.Threads), l.memory)
	case uint64(p.Memory)*uint64(p.Time) > l.work:
		return fmt.Errorf("argon2 params: m×t=%d exceeds %d", uint64(p.Memory)*uint64(p.Time), l.work)
	}
	return nil
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string for pw with a fresh random salt. It refuses
// empty and over-long passwords as a backstop; the full policy is
// ValidatePassword's job, since imported or generated passwords skip it.
func (h *Hasher) Hash(pw string) (string, error) {
	if pw == "" {
		return "", ErrPasswordTooShort
	}
	if len(pw) > MaxPasswordLen {
		return "", ErrPasswordTooLong
	}
	salt := randomBytes(int(h.params.SaltLen))
	return phc{p: h.params, salt: salt, key: h.derive(pw, salt, h.params)}.String(), nil
}

// Check reports whether pw matches hash, in time independent of where the
// two differ. needsRehash is true when pw is correct but the hash was made
// with parameters other than h's: the caller should store h.Hash(pw). An
// error means the stored hash itself is unusable (never a wrong password).
func (h *Hasher) Check(hash, pw string) (ok, needsRehash bool, err error) {
	ph, err := h.parse(hash)
	if err != nil {
		return false, false, err
	}
	key := h.derive(pw, ph.salt, ph.p)
	if subtle.ConstantTimeCompare(key, ph.key) != 1 {
		return false, false, nil
	}
	return true, ph.p != h.params, nil
}

// CheckDummy does the work of a failed Check. Call it when the account does
// not exist so that the response time does not reveal which emails have
// accounts.
func (h *Hasher) CheckDummy(pw string) {
	key := h.derive(pw, h.dummy.salt, h.dummy.p)
	subtle.ConstantTimeCompare(key, h.dummy.key)
}

func (h *Hasher) derive(pw string, salt []byte, p Params) []byte {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

func (p phc) String() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.p.Memory, p.p.Time, p.p.Threads, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// parse reads a PHC argon2id string strictly: one spelling per hash (no
// leading zeros, no padding, fields in order), every number bounded before
// anything is allocated from it.
func (h *Hasher) parse(s string) (phc, error) {
	bad := func(why string) (phc, error) { return phc{}, fmt.Errorf("%w: %s", ErrMalformedHash, why) }
	if len(s) > maxHashLen {
		return bad("too long")
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return bad("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if f[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version is not 19")
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return bad("want m=,t=,p= parameters")
	}
	var n [3]uint32
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return bad("want m=,t=,p= parameters in that order")
		}
		if n[i], ok = parseDecimal(v); !ok {
			return bad("parameter " + name + " is not a canonical 32-bit number")
		}
	}
	if n[2] > 255 {
		return bad("p out of range")
	}
	p := Params{Memory: n[0], Time: n[1], Threads: uint8(n[2])}
	if err := h.lim.check(p); err != nil {
		return bad(err.Error())
	}
	salt, err := decodeB64(f[4], minSaltLen, maxSaltLen)
	if err != nil {
		return bad("salt: " + err.Error())
	}
	key, err := decodeB64(f[5], minKeyLen, maxKeyLen)
	if err != nil {
		return bad("hash: " + err.Error())
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return phc{p: p, salt: salt, key: key}, nil
}

func parseDecimal(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err == nil
}

func decodeB64(s string, minLen, maxLen int) ([]byte, error) {
	enc := base64.RawStdEncoding.Strict()
	if len(s) > enc.EncodedLen(maxLen) {
		return nil, errors.New("too long")
	}
	b, err := enc.DecodeString(s)
	// The decoder skips \r and \n even in strict mode; re-encoding makes
	// sure there is exactly one spelling of each hash.
	if err != nil || enc.EncodeToString(b) != s {
		return nil, errors.New("not unpadded standard base64")
	}
	if len(b) < minLen || len(b) > maxLen {
		return nil, fmt.Errorf("length %d out of range %d-%d", len(b), minLen, maxLen)
	}
	return b, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails since Go 1.24; it crashes the program instead
	return b
}

var defaultHasher = func() *Hasher {
	h, err := NewHasher(DefaultParams)
	if err != nil {
		panic(err)
	}
	return h
}()

// HashPassword hashes pw with DefaultParams.
func HashPassword(pw string) (string, error) { return defaultHasher.Hash(pw) }

// CheckPassword verifies pw against a stored hash; see Hasher.Check.
func CheckPassword(hash, pw string) (ok bool, needsRehash bool, err error) {
	return defaultHasher.Check(hash, pw)
}

// CheckDummy spends the time of a failed CheckPassword; see Hasher.CheckDummy.
func CheckDummy(pw string) { defaultHasher.CheckDummy(pw) }
