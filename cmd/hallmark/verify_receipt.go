package main

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// checkReceipt proves, offline once cached, that the authority's
// transparency log holds the decision that issued this very credential:
// the log entry names the label and the credential's hash, and the receipt's
// inclusion proof and signed checkpoint verify. It returns a line for the
// report, or an error when the log contradicts the credential.
//
// The receipts and the log's keys come from the trusted issuer's origin,
// never from wherever the credential was found: a copy hosted elsewhere
// cannot vouch for itself.
func (v *verifier) checkReceipt(ctx context.Context, client *peer.Client, trusted peer.TrustedIssuer, claims *label.LabelClaims, jws string) (string, error) {
	doc, err := client.Receipts(ctx, claims.LabelID)
	if err != nil {
		return "", fmt.Errorf("%w (%v)", errNoReceipt, err)
	}
	info, err := client.LogInfo(ctx)
	if err != nil {
		return "", fmt.Errorf("%w (%v)", errNoReceipt, err)
	}
	if doc.Origin != info.Origin {
		return "", fmt.Errorf("the receipts name the log %q, but the issuer's log is %q", doc.Origin, info.Origin)
	}
	if trusted.LogOrigin != "" && info.Origin != trusted.LogOrigin {
		return "", fmt.Errorf("the issuer's log is now %q, but you trusted it with the log %q", info.Origin, trusted.LogOrigin)
	}
	var vs []note.Verifier
	for _, k := range info.Verifiers {
		nv, err := note.NewVerifier(k)
		if err != nil {
			return "", fmt.Errorf("log verifier key: %w", err)
		}
		vs = append(vs, nv)
	}
	for _, r := range doc.Receipts {
		if r.Kind != tlog.KindLabelIssued || r.Receipt == "" {
			continue
		}
		e, err := tlog.ParseEntry([]byte(r.Entry))
		if err != nil {
			return "", fmt.Errorf("the logged entry does not parse: %w", err)
		}
		if e.Subject != claims.LabelID || e.Digest != label.Hash(jws) {
			return "", fmt.Errorf("the log records a different credential for %s (sha256 %s): this credential was not the one issued", e.Subject, e.Digest)
		}
		rc, err := tlog.ParseReceipt([]byte(r.Receipt))
		if err != nil {
			return "", fmt.Errorf("the receipt does not parse: %w", err)
		}
		size, err := tlog.VerifyReceipt(rc, []byte(r.Entry), note.VerifierList(vs...), doc.Origin)
		if err != nil {
			return "", fmt.Errorf("the log receipt does not verify: %w", err)
		}
		return fmt.Sprintf("issue logged as entry %d of %s (checkpoint of %d entries)", rc.Index, doc.Origin, size), nil
	}
	return "", errNoReceipt
}

var errNoReceipt = errors.New("no log receipt for this label is available")
