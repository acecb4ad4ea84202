package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// receiptsDoc is what /api/v1/labels/{id}/receipts answers.
type receiptsDoc struct {
	Label     string   `json:"label"`
	Origin    string   `json:"log_origin"`
	Verifiers []string `json:"log_verifiers"`
	Receipts  []struct {
		Kind    string `json:"kind"`
		Entry   string `json:"entry"`
		Receipt string `json:"receipt"`
	} `json:"receipts"`
}

// checkReceipt proves, offline once cached, that the authority's
// transparency log holds the decision that issued this very credential:
// the log entry names the label and the credential's hash, and the receipt's
// inclusion proof and signed checkpoint verify. It returns a line for the
// report, or an error when the log contradicts the credential.
func (v *verifier) checkReceipt(ctx context.Context, claims *label.LabelClaims, jws, credOrigin string) (string, error) {
	// The receipts and the log's keys come from the issuer named in the
	// (signature-checked) credential, never from wherever the credential
	// was found: a copy hosted elsewhere cannot vouch for itself.
	base := strings.TrimRight(claims.Issuer.ID, "/")
	if !isHTTPURL(base) {
		base = credOrigin
	}
	if base == "" {
		return "", errNoReceipt
	}
	var doc receiptsDoc
	if err := v.fetchJSON(ctx, base+"/api/v1/labels/"+claims.LabelID+"/receipts", &doc); err != nil {
		return "", err
	}
	var logInfo struct {
		Origin    string   `json:"origin"`
		Verifiers []string `json:"verifiers"`
	}
	if err := v.fetchJSON(ctx, base+"/.well-known/hallmark/log.json", &logInfo); err != nil {
		return "", err
	}
	if doc.Origin != logInfo.Origin {
		return "", fmt.Errorf("the receipts name the log %q, but the issuer's log is %q", doc.Origin, logInfo.Origin)
	}
	var vs []note.Verifier
	for _, k := range logInfo.Verifiers {
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

// fetchJSON reads a JSON document online (caching it) or, offline or when
// the network fails, from the cache.
func (v *verifier) fetchJSON(ctx context.Context, u string, out any) error {
	var body []byte
	var err error
	if !v.offline {
		if body, err = v.get(ctx, u, "application/json", 1<<20); err == nil {
			v.store(u, body)
		}
	}
	if body == nil {
		if body, _, err = v.load(u); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return errNoReceipt
			}
			return fmt.Errorf("cached %s: %w", u, err)
		}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s could not be read: %w", u, err)
	}
	return nil
}
