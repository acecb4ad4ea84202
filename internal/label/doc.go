// Package label issues and verifies Hallmark labels: an authority's Ed25519
// signing keys (keys.go), the label credential, a W3C Verifiable Credential
// 2.0 secured as a compact JWS per VC-JOSE-COSE (credential.go), W3C
// Bitstring Status Lists (statuslist.go), offline verification against
// cached keys and lists (verify.go), the QR code to a label's public page
// (qr.go) and the CTA-2120-style public record (cta2120.go).
//
// It is domain logic only: no HTTP, no SQL. The caller stores credentials,
// allocates status list indexes and publishes the key set and lists.
//
// # Status: three lists, read so that they fail closed
//
// A label is active, suspended, revoked or surrendered (its manufacturer
// gave it up). Each credential names its entry, at the same index, in three
// lists:
//
//   - revocation (one bit): set for a revoked AND for a surrendered label.
//     Either is final, and a generic W3C Bitstring Status List verifier,
//     which knows nothing of surrender, must see the label as terminated.
//   - suspension (one bit): set while the label is suspended.
//   - message (statusSize 2, statusMessage MessageTable: 0x0 active,
//     0x1 suspended, 0x2 revoked, 0x3 surrendered), at /status/message/{n}.
//     A two-bit list of the spec's minimum 131,072 entries is 262,144 bits.
//
// VerifyOffline reads revocation and suspension first, and the message list
// only when the revocation bit is set, to tell surrendered from revoked; if
// it cannot be read the label is reported revoked, which is as final. A
// credential issued before the message list existed has no message entry
// and verifies as before.
//
// A status list is read only while it is fresh: never after its validUntil,
// and never when it was fetched longer ago than its validity window (or a
// shorter Policy.MaxStatusAge). A stale list gives "status unknown" with the
// time the status was last known, never "valid".
//
// # Keys are trusted for their time only
//
// A retired key verifies only what it signed (by the document's validFrom)
// up to its retirement; a key the issuer declares compromised since T
// verifies nothing dated T or later. Both times are published in the JWKS
// (retired_at, compromised). A thief can back-date what it signs; the
// authority's transparency log, which holds every credential really
// issued, is what catches that.
package label
