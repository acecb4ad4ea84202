package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/peer"
)

// VerifyExit is the exit status of 'hallmark verify'. runVerify returns the
// non-zero ones as errors (ExitCode reports the number); the report has
// already been written to standard output.
type VerifyExit int

// The exit statuses of 'hallmark verify', apart from 1 (could not verify at
// all) and 2 (command line mistake).
const (
	VerifyValid                VerifyExit = 0
	VerifyInvalid              VerifyExit = 10
	VerifySuspended            VerifyExit = 11
	VerifyRevoked              VerifyExit = 12
	VerifyExpired              VerifyExit = 13
	VerifyNotYetValid          VerifyExit = 14
	VerifyStatusUnknownOffline VerifyExit = 15 // status unknown, offline or not: no fresh status list
	VerifyIssuerNotTrusted     VerifyExit = 16
	VerifySurrendered          VerifyExit = 17
)

// ExitCode is the process exit status.
func (e VerifyExit) ExitCode() int { return int(e) }

func (e VerifyExit) Error() string {
	switch e {
	case VerifyValid:
		return "label is valid"
	case VerifyInvalid:
		return "label credential is invalid"
	case VerifySuspended:
		return "label is suspended"
	case VerifyRevoked:
		return "label is revoked"
	case VerifyExpired:
		return "label has expired"
	case VerifyNotYetValid:
		return "label is not yet valid"
	case VerifyStatusUnknownOffline:
		return "label signature is good but its status is unknown"
	case VerifyIssuerNotTrusted:
		return "issuer not trusted"
	case VerifySurrendered:
		return "label was surrendered by its manufacturer"
	}
	return fmt.Sprintf("verify exit %d", int(e))
}

const verifyDescription = `Verifies a Hallmark label credential (a W3C Verifiable Credential secured as
a compact JWS): that its issuer is one you trust, the signature with the
issuer's keys, the validity window, revocation, suspension and surrender in
the issuer's status lists, and the issue's receipt in its transparency log.

The credential is a file, or an http(s) URL: a label's public page
(https://host/labels/ID) is read as https://host/api/v1/labels/ID/credential.

Trust: an issuer is accepted only if it is in your trust store
($XDG_CONFIG_HOME/hallmark/trust.json, or --trust FILE), added with
'hallmark trust add URL'; the report names it by the name you trusted it as,
not the name the credential claims. The store pins the issuer's keys: a
changed key set is accepted (and the pin moved) only while it still carries
a pinned, uncompromised key. --tofu trusts an unknown issuer on first use.

Keys are <issuer origin>/.well-known/hallmark/keys.json unless --keys is
given; a key verifies only what it signed before it was retired or
compromised. Key sets, status lists and receipts are cached for --offline,
which uses only the cache, the trust store and --keys FILE. A status list is
used only while it is valid (and no older than --max-age): the report says
"status as of TIME (AGE ago)", and an older status is unknown, never valid.

Exit status:
   0  valid: trusted issuer, signature good, in its validity window, neither
      revoked, surrendered nor suspended, status fresh
  10  invalid: bad signature, unknown key, key retired or compromised before
      the signing time, refused algorithm, malformed, contradicted by the log
  11  suspended
  12  revoked (wins over suspended)
  13  expired
  14  not yet valid
  15  status unknown: no status list, or none fresh enough, could be read
      (the report gives the time the status was last known)
  16  issuer not trusted, or its keys changed without continuity
  17  surrendered by its manufacturer
   1  could not verify at all (unreadable file, network error, no keys)
   2  a mistake on the command line`

// clock is the verifier's clock; tests move it.
var clock = time.Now

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("verify", "verify [--trust FILE] [--tofu] [--keys FILE|URL] [--status-cache DIR] [--offline] [--max-age DURATION] FILE|URL", verifyDescription, stderr)
	keysArg := flags.String("keys", "", "the issuer's key set (keys.json), a file or an http(s) URL (default: from the issuer's origin)")
	cache := flags.String("status-cache", defaultStatusCache(), "directory where status lists, key sets and receipts are cached for --offline")
	offline := flags.Bool("offline", false, "use no network: only the cache, the trust store and a --keys file")
	trustPath := flags.String("trust", "", "the trust store file (default $XDG_CONFIG_HOME/hallmark/trust.json)")
	tofu := flags.Bool("tofu", false, "trust an issuer not in the trust store on first use, pinning its current keys")
	maxAge := flags.Duration("max-age", 0, "the oldest status accepted, e.g. 1h (default: as long as the signed status list is valid)")
	bundle := flags.String("bundle", "", "verify with the network off from this offline bundle ('hallmark bundle'), for an issuer pinned with 'hallmark peer add'")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return usagef("name one credential: a file or an http(s) URL")
	}
	if *maxAge < 0 {
		return usagef("--max-age must not be negative")
	}
	if *tofu && *offline {
		return usagef("--tofu needs the network to read the issuer's keys")
	}
	v := &verifier{offline: *offline, cache: *cache, now: clock(), trustFlag: *trustPath, tofu: *tofu, maxAge: *maxAge, stderr: stderr}
	if *bundle != "" {
		if *tofu || *keysArg != "" {
			return usagef("--bundle brings the keys: it takes neither --tofu nor --keys")
		}
		v.offline = true
		return v.runBundle(flags.Arg(0), *bundle, stdout)
	}
	return v.run(ctx, flags.Arg(0), *keysArg, stdout)
}

func defaultStatusCache() string {
	dir, err := os.UserCacheDir() // $XDG_CACHE_HOME, else ~/.cache
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "hallmark", "status")
}

type verifier struct {
	offline   bool
	cache     string
	now       time.Time
	trustFlag string // --trust as given; "" for the default store
	tofu      bool
	maxAge    time.Duration
	source    string // where the credential was read: its URL or file
	stderr    io.Writer
	warnings  []string
}

func (v *verifier) warnf(format string, args ...any) {
	v.warnings = append(v.warnings, fmt.Sprintf(format, args...))
}

func (v *verifier) client(base, keysURL string) (*peer.Client, error) {
	return peer.New(base, peer.Options{CacheDir: v.cache, Offline: v.offline, KeysURL: keysURL,
		Now: func() time.Time { return v.now }, Warn: func(s string) { v.warnf("%s", s) }, UserAgent: "hallmark-verify/" + version})
}

func (v *verifier) run(ctx context.Context, arg, keysArg string, stdout io.Writer) error {
	jws, credOrigin, err := v.readCredential(ctx, arg)
	if err != nil {
		return err
	}
	// Unverified: read only to find the issuer, its keys and status lists.
	claims, perr := label.ParseUnverified(jws)
	if perr != nil {
		writeVerifyReport(stdout, label.Result{Status: label.StatusInvalid, Reasons: []string{perr.Error()}}, verifyContext{}, v.warnings)
		return VerifyInvalid
	}
	store, err := loadTrustStore(v.trustFlag)
	if err != nil {
		return err
	}
	base := credOrigin
	if o, err := peer.Origin(claims.Issuer.ID); err == nil {
		base = o
	}
	keysURL := ""
	if isHTTPURL(keysArg) {
		if v.offline {
			return usagef("--offline needs --keys to be a file, not a URL")
		}
		keysURL = keysArg
	}
	var client *peer.Client
	if base != "" {
		if client, err = v.client(base, keysURL); err != nil {
			return err
		}
	}
	if _, ok := store.Get(claims.Issuer.ID); !ok {
		if !v.tofu {
			writeUntrusted(stdout, claims, base, v.trustFlag, store.Path(), nil)
			return VerifyIssuerNotTrusted
		}
		if client == nil {
			return usagef("--tofu: the issuer %s is not a URL to read keys from; use 'hallmark trust add --keys FILE --issuer ID'", claims.Issuer.ID)
		}
		if err := v.trustOnFirstUse(ctx, client, claims, store, stdout); err != nil {
			return err
		}
	}

	// The key set the issuer publishes now, checked against the pin.
	var published label.PublicKeys
	var keysFrom string
	pinnedList := false
	if t, _ := store.Get(claims.Issuer.ID); t.TrustList != nil && keysArg == "" && v.offline {
		// Offline, a peer pinned by its trust list needs nothing more: the
		// list is its word on its keys, checked again here.
		lv, err := t.Verified(v.now)
		if err != nil {
			writeUntrusted(stdout, claims, base, v.trustFlag, store.Path(), fmt.Errorf("the pinned trust list of %s: %w", t.ID, err))
			return VerifyIssuerNotTrusted
		}
		pinnedList = true
		keysFrom = fmt.Sprintf("trust list %d of %s, pinned in %s", lv.List.Sequence, t.ID, store.Path())
		if lv.List.Stale(v.now) {
			v.warnf("the pinned trust list of %s was due to be replaced at %s: run 'hallmark peer add %s' when online", t.ID, lv.List.NextUpdate.UTC().Format(time.RFC3339), t.ID)
		}
	}
	switch {
	case pinnedList:
	case keysArg != "" && !isHTTPURL(keysArg):
		b, err := peer.ReadFileLimited(keysArg, peer.MaxKeysBytes)
		if err != nil {
			return err
		}
		if published, err = label.ParseJWKS(b); err != nil {
			return fmt.Errorf("%s: %w", keysArg, err)
		}
		keysFrom = keysArg
	case client != nil:
		keys, fetched, err := client.Keys(ctx)
		if err == nil {
			published, keysFrom = keys, fetched.String()
		} else {
			v.warnf("could not read the issuer's current key set (%v): verifying with the keys pinned in the trust store, which do not show a compromise announced since", err)
		}
	}
	checked, err := store.Check(claims.Issuer.ID, published, v.now)
	if errors.Is(err, peer.ErrKeysChanged) {
		writeUntrusted(stdout, claims, base, v.trustFlag, store.Path(), err)
		return VerifyIssuerNotTrusted
	}
	if err != nil {
		return err
	}
	if keysFrom == "" {
		keysFrom = "the trust store " + store.Path()
	}
	if checked.Changed {
		if err := store.Save(); err != nil {
			return err
		}
	}
	trusted := checked.Issuer

	lists := map[string]*label.StatusListSnapshot{}
	if client != nil {
		for _, ref := range []label.StatusRef{claims.Revocation, claims.Suspension, claims.Message} {
			if _, seen := lists[ref.ListURL]; ref.ListURL == "" || seen {
				continue
			}
			snap, err := client.StatusList(ctx, ref.ListURL, checked.Keys)
			if err != nil {
				if !errors.Is(err, peer.ErrNotCached) {
					v.warnf("could not use %v", err)
				}
				continue
			}
			lists[ref.ListURL] = snap
		}
	}
	res := label.Policy{MaxStatusAge: v.maxAge}.VerifyOffline(jws, checked.Keys, lists, v.now)
	if checked.Rotated {
		res.Reasons = append(res.Reasons, fmt.Sprintf("the issuer's key set changed and was accepted because it still carries the pinned key %s; the pin in %s was updated",
			checked.Continuity, store.Path()))
	}
	if res.Status != label.StatusInvalid && client != nil {
		line, err := v.checkReceipt(ctx, client, trusted, claims, jws)
		switch {
		case err == nil:
			res.Reasons = append(res.Reasons, line)
		case errors.Is(err, errNoReceipt):
			v.warnf("%v: the issue could not be checked against the authority's transparency log", err)
		default:
			res.Status = label.StatusInvalid
			res.Reasons = append(res.Reasons, err.Error())
		}
	}
	writeVerifyReport(stdout, res, verifyContext{source: v.source, keysFrom: keysFrom, trusted: &trusted, now: v.now}, v.warnings)
	return exitFor(res)
}

// trustOnFirstUse pins an issuer the user has never trusted, saying loudly
// that nothing vouched for it.
func (v *verifier) trustOnFirstUse(ctx context.Context, client *peer.Client, claims *label.LabelClaims, store *peer.TrustStore, stdout io.Writer) error {
	keys, _, err := client.Keys(ctx)
	if err != nil {
		return fmt.Errorf("--tofu: %w", err)
	}
	name := claims.Issuer.Name
	t := peer.NewTrustedIssuer(claims.Issuer.ID, name, keys, peer.TrustedOnUse, v.now)
	if info, err := client.LogInfo(ctx); err == nil {
		t.LogOrigin, t.LogVerifiers = info.Origin, info.Verifiers
	}
	if t.Name == "" {
		t.Name = t.ID
	}
	store.Add(t)
	if err := store.Save(); err != nil {
		return err
	}
	fmt.Fprintf(v.stderr, "hallmark verify: --tofu: trusting %q <%s> on first use, pinning keys %s in %s.\n"+
		"Nothing vouched for this issuer: confirm with the authority that these are its keys ('hallmark trust list' shows them).\n",
		t.Name, t.ID, pinnedKIDs(t), store.Path())
	fmt.Fprintf(stdout, "%-14s %s\n", "Trust", fmt.Sprintf("NEW: %s pinned on first use (--tofu); nothing vouched for it", t.ID))
	return nil
}

func pinnedKIDs(t peer.TrustedIssuer) string {
	var ks []string
	for _, k := range t.Keys {
		ks = append(ks, k.KID)
	}
	return strings.Join(ks, ", ")
}

func loadTrustStore(flagPath string) (*peer.TrustStore, error) {
	path := flagPath
	if path == "" {
		var err error
		if path, err = peer.DefaultTrustPath(); err != nil {
			return nil, err
		}
	}
	return peer.LoadTrustStore(path)
}

// writeUntrusted reports an issuer verify will not accept, with the exact
// command that would trust it. Nothing else of the credential is shown:
// it is not verified.
func writeUntrusted(w io.Writer, claims *label.LabelClaims, base, trustFlag, storePath string, keysErr error) {
	line := func(k, format string, args ...any) { fmt.Fprintf(w, "%-14s %s\n", k, fmt.Sprintf(format, args...)) }
	who := claims.Issuer.ID
	if claims.Issuer.Name != "" {
		who = fmt.Sprintf("%s, calling itself %q (unverified)", claims.Issuer.ID, claims.Issuer.Name)
	}
	line("Issuer", "%s", who)
	line("Status", "ISSUER NOT TRUSTED")
	trustArg := ""
	if trustFlag != "" {
		trustArg = " --trust " + shellQuote(trustFlag)
	}
	if keysErr != nil {
		fmt.Fprintf(w, "  - %v\n", keysErr)
		return
	}
	fmt.Fprintf(w, "  - %s is not in your trust store %s\n", claims.Issuer.ID, storePath)
	if base != "" && strings.TrimRight(claims.Issuer.ID, "/") == base {
		line("To trust it", "hallmark trust add%s %s", trustArg, shellQuote(base))
	} else {
		line("To trust it", "hallmark trust add%s --keys KEYS.json --issuer %s", trustArg, shellQuote(claims.Issuer.ID))
	}
	fmt.Fprintln(w, "  (only if you know this is the authority you mean: anyone can run a server that calls itself anything)")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func exitFor(r label.Result) error {
	switch r.Status {
	case label.StatusInvalid:
		return VerifyInvalid
	case label.StatusRevoked:
		return VerifyRevoked
	case label.StatusSurrendered:
		return VerifySurrendered
	case label.StatusSuspended:
		return VerifySuspended
	case label.StatusExpired:
		return VerifyExpired
	case label.StatusNotYetValid:
		return VerifyNotYetValid
	}
	if !r.StatusKnown {
		return VerifyStatusUnknownOffline
	}
	return nil
}

// mustPath is the path of a URL, or "" when it is none.
func mustPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Path
}

func isHTTPURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// labelPagePath matches a label's public page, whose credential lives in the API.
var labelPagePath = regexp.MustCompile(`^/labels/([^/]+)/?$`)

// credentialURL turns a label page URL into its credential URL; other URLs
// are used as they are.
func credentialURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, usagef("%q is not a URL", raw)
	}
	if m := labelPagePath.FindStringSubmatch(u.Path); m != nil {
		u.Path = "/api/v1/labels/" + m[1] + "/credential"
		u.RawPath = ""
		u.RawQuery = ""
	}
	u.Fragment = ""
	return u, nil
}

func (v *verifier) readCredential(ctx context.Context, arg string) (jws, credOrigin string, err error) {
	if !isHTTPURL(arg) {
		body, err := peer.ReadFileLimited(arg, peer.MaxCredentialBytes)
		if err != nil {
			return "", "", err
		}
		v.source = arg
		return strings.TrimSpace(string(body)), "", nil
	}
	if v.offline {
		return "", "", usagef("--offline needs a credential file, not a URL")
	}
	u, err := credentialURL(arg)
	if err != nil {
		return "", "", err
	}
	c, err := v.client(u.String(), "")
	if err != nil {
		return "", "", usagef("%v", err)
	}
	if jws, err = c.Credential(ctx, u.String()); err != nil {
		var se *peer.StatusError
		if errors.As(err, &se) && se.Code == http.StatusNotFound {
			what := "no credential at " + u.String()
			if m := labelPagePath.FindStringSubmatch(mustPath(arg)); m != nil {
				what = fmt.Sprintf("no label %s at %s", m[1], c.BaseURL())
			}
			return "", "", fmt.Errorf("there is %s: check the code on the box or the address (the server answered %s)", what, se.Status)
		}
		return "", "", err
	}
	v.source = u.String()
	return jws, c.BaseURL(), nil
}

// verifyContext is what the report needs besides the result.
type verifyContext struct {
	source   string // where the credential was read from
	keysFrom string
	trusted  *peer.TrustedIssuer
	now      time.Time
}

// ago says roughly how long before now t was.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

func writeVerifyReport(w io.Writer, r label.Result, vc verifyContext, warnings []string) {
	line := func(k, format string, args ...any) {
		fmt.Fprintf(w, "%-14s %s\n", k, fmt.Sprintf(format, args...))
	}
	if v := r.Credential; v != nil {
		c := v.Claims
		line("Label", "%s", c.LabelID)
		if vc.source != "" {
			line("Credential", "%s", vc.source)
		}
		p := c.Product.Name
		if c.Product.ModelNumber != "" {
			p += ", model " + c.Product.ModelNumber
		}
		if c.Product.Manufacturer != "" {
			p += ", by " + c.Product.Manufacturer
		}
		if c.Product.SoftwareVersion != "" {
			p += ", software " + c.Product.SoftwareVersion
		}
		line("Product", "%s", p)
		var ids []string
		for _, id := range [][2]string{{"purl", c.Product.PURL}, {"cpe", c.Product.CPE}, {"gtin", c.Product.GTIN}} {
			if id[1] != "" {
				ids = append(ids, id[0]+" "+id[1])
			}
		}
		if len(ids) > 0 {
			line("Identifiers", "%s", strings.Join(ids, "; "))
		}
		s := fmt.Sprintf("%s version %d", c.SchemeID, c.SchemeVersion)
		if c.SchemeVersionName != "" {
			s += " (" + c.SchemeVersionName + ")"
		}
		s += ", level " + c.LevelID
		if c.LevelName != "" && c.LevelName != c.LevelID {
			s += " (" + c.LevelName + ")"
		}
		line("Scheme", "%s", s)
		// The name the user trusted, never the one the credential claims:
		// anyone can sign "Cyber Security Agency" into a credential.
		if t := vc.trusted; t != nil {
			line("Issuer", "%s <%s>, trusted (%s, %s)", t.Name, c.Issuer.ID, t.How, t.Added.UTC().Format(time.DateOnly))
			if c.Issuer.Name != "" && c.Issuer.Name != t.Name {
				warnings = append(warnings, fmt.Sprintf("the credential calls its issuer %q; you trusted %s as %q", c.Issuer.Name, c.Issuer.ID, t.Name))
			}
		} else {
			line("Issuer", "%s", c.Issuer.ID)
		}
		until := "no end"
		if !c.ValidUntil.IsZero() {
			until = c.ValidUntil.UTC().Format(time.RFC3339)
		}
		line("Valid", "%s to %s", c.ValidFrom.UTC().Format(time.RFC3339), until)
		if !c.SupportEndDate.IsZero() {
			line("Support ends", "%s", c.SupportEndDate.Format(time.DateOnly))
		}
		if c.PageURL != "" {
			line("Public page", "%s", c.PageURL)
		}
		line("Signed with", "key %s from %s", v.Key.KID, vc.keysFrom)
		line("SHA-256", "%s", v.Hash)
	}
	line("Status", "%s", strings.ToUpper(string(r.Status)))
	switch {
	case r.Status == label.StatusInvalid:
	case r.StatusAsOf.IsZero():
		line("Status as of", "unknown (no status list could be read)")
	case !r.StatusKnown:
		line("Status as of", "unknown (last known as of %s, %s ago)", r.StatusAsOf.UTC().Format(time.RFC3339), ago(vc.now, r.StatusAsOf))
	default:
		line("Status as of", "%s (%s ago)", r.StatusAsOf.UTC().Format(time.RFC3339), ago(vc.now, r.StatusAsOf))
	}
	for _, s := range r.Reasons {
		fmt.Fprintf(w, "  - %s\n", s)
	}
	for _, s := range append(slices.Clone(warnings), r.Warnings...) {
		fmt.Fprintf(w, "Warning: %s\n", s)
	}
}
