// Package label issues and verifies Hallmark labels: an authority's Ed25519
// signing keys (keys.go), the label credential, a W3C Verifiable Credential
// 2.0 secured as a compact JWS per VC-JOSE-COSE (credential.go), W3C
// Bitstring Status Lists for revocation and suspension (statuslist.go),
// offline verification against cached keys and lists (verify.go), the QR
// code to a label's public page (qr.go) and the CTA-2120-style public record
// (cta2120.go).
//
// It is domain logic only: no HTTP, no SQL. The caller stores credentials,
// allocates status list indexes and publishes the key set and lists.
package label
