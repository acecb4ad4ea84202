// Package notify holds the pure parts of webhook delivery: the event a
// receiver gets, how it is signed, when a failed delivery is tried again,
// and which URLs and addresses Hallmark may send to at all. It does no I/O
// beyond the HTTP client it builds; the store queues deliveries and the
// server sends them.
package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Limits of webhook endpoints and deliveries.
const (
	// MaxEndpoints is how many endpoints one organisation may register:
	// each notification is sent to every one, so this bounds the fan-out.
	MaxEndpoints = 5
	// MaxURLLen bounds an endpoint's URL, in bytes.
	MaxURLLen = 2048
	// AttemptTimeout bounds one delivery attempt, connection to last byte.
	AttemptTimeout = 10 * time.Second
	// MaxResponseBody is how much of a receiver's answer is read (and
	// discarded) so the connection can be reused; the rest is dropped.
	MaxResponseBody = 64 << 10
)

// EventType is the type of every event sent so far.
const EventType = "finding.notification"

// The headers of a delivery.
const (
	HeaderID        = "Hallmark-Webhook-Id"
	HeaderTimestamp = "Hallmark-Webhook-Timestamp"
	HeaderSignature = "Hallmark-Webhook-Signature"
)

// Event is the JSON body of a delivery: one notification of the
// post-market watch. ID is the notification's id, the same on every retry
// and every endpoint, so a receiver can drop duplicates.
type Event struct {
	ID           int64     `json:"id"`
	Type         string    `json:"type"`
	Organisation int64     `json:"organisation"`
	FindingID    int64     `json:"finding_id"`
	Rule         string    `json:"rule"`
	Message      string    `json:"message"`
	CreatedAt    time.Time `json:"created_at"`
}

// Body is the event as sent.
func (e Event) Body() []byte {
	e.Type = EventType
	e.CreatedAt = e.CreatedAt.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // only strings, numbers and a time: cannot fail
	}
	return b
}

// secretPrefix marks a signing secret, so one pasted into the wrong place
// is recognisable (and findable by secret scanners).
const secretPrefix = "whsec_"

// NewSecret makes an endpoint's signing secret: 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Sign is the signature header of a body sent at timestamp (Unix
// seconds): "v1=" and the hex HMAC-SHA256, keyed with the whole secret
// string, of "<timestamp>.<body>". The timestamp is inside the MAC so a
// captured delivery cannot be replayed later under a fresh timestamp.
func Sign(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// ErrSignature is Verify's answer to a delivery that is not genuine or not
// fresh.
var ErrSignature = errors.New("webhook signature does not verify")

// Verify is the receiver's check, here so tests (and Go receivers) check
// deliveries exactly as the README tells others to: the signature header
// holds a v1 signature of the body at the timestamp header, and the
// timestamp is within tolerance of now. Several comma-separated signatures
// are accepted, for a receiver rotating secrets on its side.
func Verify(secret, signatureHeader, timestampHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestampHeader, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: the timestamp %q is not Unix seconds", ErrSignature, timestampHeader)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: the timestamp is %s away from now", ErrSignature, d.Round(time.Second))
	}
	want := Sign(secret, ts, body)
	for _, sig := range strings.Split(signatureHeader, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(sig)), []byte(want)) {
			return nil
		}
	}
	return ErrSignature
}

// Schedule is how long to wait before each retry: the first retry waits
// Schedule[0], and after the last the delivery is given up.
type Schedule []time.Duration

// DefaultSchedule retries for a little under two days in all: a receiver
// down for a weekend's maintenance still gets the notification.
var DefaultSchedule = Schedule{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// Retry says how long to wait after the attempt numbered attempt (1 for
// the first) failed, or false when that was the last one. Up to a tenth
// is added at random so deliveries that failed together (a receiver's
// outage) do not all come back at the same moment.
func (s Schedule) Retry(attempt int) (time.Duration, bool) {
	if attempt < 1 || attempt > len(s) {
		return 0, false
	}
	d := s[attempt-1]
	if d <= 0 {
		return 0, true
	}
	return d + time.Duration(mrand.Int64N(int64(d)/10+1)), true
}
