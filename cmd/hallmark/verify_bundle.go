package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/peer"
)

// runBundle verifies a credential file with the network off, from an
// offline bundle of its issuer, who must be pinned in the trust store: the
// bundle's trust list is checked against that pin, its status lists and
// checkpoint against the list. A bundle too old to establish status says
// so, with the exit status of an unknown status.
func (v *verifier) runBundle(credFile, bundleFile string, stdout io.Writer) error {
	if isHTTPURL(credFile) {
		return usagef("--bundle works with the network off: give the credential as a file")
	}
	jws, _, err := v.readCredential(context.Background(), credFile)
	if err != nil {
		return err
	}
	raw, err := peer.ReadFileLimited(bundleFile, peer.MaxBundleBytes)
	if err != nil {
		return err
	}
	bd, err := peer.ParseBundle(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", bundleFile, err)
	}
	claims, perr := label.ParseUnverified(jws)
	if perr != nil {
		writeVerifyReport(stdout, label.Result{Status: label.StatusInvalid, Reasons: []string{perr.Error()}}, verifyContext{}, v.warnings)
		return VerifyInvalid
	}
	store, err := loadTrustStore(v.trustFlag)
	if err != nil {
		return err
	}
	trusted, ok := store.Get(claims.Issuer.ID)
	if !ok {
		writeUntrusted(stdout, claims, strings.TrimRight(claims.Issuer.ID, "/"), v.trustFlag, store.Path(), nil)
		return VerifyIssuerNotTrusted
	}
	o, err := peer.OpenBundle(bd, trusted, v.now)
	if err != nil {
		writeUntrusted(stdout, claims, "", v.trustFlag, store.Path(), fmt.Errorf("%s: %w", bundleFile, err))
		return VerifyIssuerNotTrusted
	}
	for _, p := range o.Problems {
		v.warnf("%s", p)
	}
	lists := map[string]*label.StatusListSnapshot{}
	for _, ref := range []label.StatusRef{claims.Revocation, claims.Suspension, claims.Message} {
		if snap, ok := o.StatusLists[ref.ListURL]; ok {
			lists[ref.ListURL] = snap
		}
	}
	res := label.Policy{MaxStatusAge: v.maxAge}.VerifyOffline(jws, o.Keys, lists, v.now)
	l := o.List.List
	for _, via := range o.List.Via {
		res.Reasons = append(res.Reasons, "followed key pivot "+via+" from the pinned keys")
	}
	if cp := o.Checkpoint; cp != nil {
		res.Reasons = append(res.Reasons, fmt.Sprintf("the bundle's log checkpoint (%s, %d entries) verifies, cosigned by %d of %d witnesses (quorum %d)",
			cp.Origin, cp.Size, len(cp.Cosigners), len(l.Witnesses), l.Quorum))
	}
	if l.Stale(v.now) {
		v.warnf("the bundle's trust list was due to be replaced at %s", l.NextUpdate.UTC().Format(time.RFC3339))
	}
	if res.Status != label.StatusInvalid && !res.StatusKnown {
		res.Reasons = append(res.Reasons, fmt.Sprintf("the bundle was made %s (%s ago) and is too old to establish this label's status: get a new one ('hallmark bundle -o FILE %s')",
			bd.Created.UTC().Format(time.RFC3339), ago(v.now, bd.Created), trusted.ID))
	}
	keysFrom := fmt.Sprintf("the bundle %s (trust list %d of %s, made %s)", bundleFile, l.Sequence, trusted.ID, bd.Created.UTC().Format(time.RFC3339))
	writeVerifyReport(stdout, res, verifyContext{source: v.source, keysFrom: keysFrom, trusted: &trusted, now: v.now}, v.warnings)
	return exitFor(res)
}
