package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
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
	VerifyStatusUnknownOffline VerifyExit = 15
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
	}
	return fmt.Sprintf("verify exit %d", int(e))
}

const verifyDescription = `Verifies a Hallmark label credential (a W3C Verifiable Credential secured as
a compact JWS): the signature with the issuer's published keys, the validity
window, and revocation and suspension in the issuer's status lists.

The credential is a file, or an http(s) URL: a label's public page
(https://host/labels/ID) is read as https://host/api/v1/labels/ID/credential.
The keys are <issuer origin>/.well-known/hallmark/keys.json unless --keys is
given. Status lists and key sets are cached for --offline, which uses only
the cache and --keys FILE and reports the time the status is known as of.

Exit status:
   0  valid: signature good, in its validity window, neither revoked nor suspended
  10  invalid: bad signature, unknown key, refused algorithm or malformed
  11  suspended
  12  revoked (wins over suspended)
  13  expired
  14  not yet valid
  15  status unknown: signature good and in its window, but no status list
      could be read (offline without a cached copy, or unreachable)
   1  could not verify at all (unreadable file, network error, no keys)
   2  a mistake on the command line`

// Response size limits: generous for what each document holds, small
// enough that a hostile server cannot exhaust memory.
const (
	maxCredentialBody = 1 << 20
	maxKeysBody       = 1 << 20
	maxStatusBody     = 4 << 20
)

const wellKnownKeysPath = "/.well-known/hallmark/keys.json"

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("verify", "verify [--keys FILE|URL] [--status-cache DIR] [--offline] FILE|URL", verifyDescription, stderr)
	keysArg := flags.String("keys", "", "the issuer's key set (keys.json), a file or an http(s) URL (default: from the issuer's origin)")
	cache := flags.String("status-cache", defaultStatusCache(), "directory where status lists and key sets are cached for --offline")
	offline := flags.Bool("offline", false, "use no network: only the cache and a --keys file")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return usagef("name one credential: a file or an http(s) URL")
	}
	v := &verifier{offline: *offline, cache: *cache, now: time.Now(), client: newVerifyClient()}
	return v.run(ctx, flags.Arg(0), *keysArg, stdout)
}

func defaultStatusCache() string {
	dir, err := os.UserCacheDir() // $XDG_CACHE_HOME, else ~/.cache
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "hallmark", "status")
}

func newVerifyClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout:    10 * time.Second,
			ResponseHeaderTimeout:  15 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			// A redirect must not downgrade TLS: keys fetched in clear could be swapped.
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("refusing redirect from https to %s", req.URL.Scheme)
			}
			return nil
		},
	}
}

type verifier struct {
	offline   bool
	cache     string
	now       time.Time
	client    *http.Client
	warnings  []string
	plainHTTP map[string]bool // hosts already warned about
}

func (v *verifier) warnf(format string, args ...any) {
	v.warnings = append(v.warnings, fmt.Sprintf(format, args...))
}

func (v *verifier) run(ctx context.Context, arg, keysArg string, stdout io.Writer) error {
	jws, credOrigin, err := v.readCredential(ctx, arg)
	if err != nil {
		return err
	}
	// Unverified: read only to find the keys and status lists.
	claims, perr := label.ParseUnverified(jws)
	keys, keysFrom, err := v.loadKeys(ctx, keysArg, claims, credOrigin)
	if err != nil {
		if perr != nil {
			// Nothing to verify with, and nothing worth verifying.
			writeVerifyReport(stdout, label.Result{Status: label.StatusInvalid, Reasons: []string{perr.Error()}}, "", v.warnings)
			return VerifyInvalid
		}
		return err
	}
	lists := map[string]*label.StatusListSnapshot{}
	if perr == nil {
		for _, ref := range []label.StatusRef{claims.Revocation, claims.Suspension} {
			if _, seen := lists[ref.ListURL]; !seen {
				if s := v.statusList(ctx, ref.ListURL, keys); s != nil {
					lists[ref.ListURL] = s
				}
			}
		}
	}
	res := label.VerifyOffline(jws, keys, lists, v.now)
	if res.Status != label.StatusInvalid && perr == nil {
		line, err := v.checkReceipt(ctx, claims, jws, credOrigin)
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
	writeVerifyReport(stdout, res, keysFrom, v.warnings)
	return exitFor(res)
}

func exitFor(r label.Result) error {
	switch r.Status {
	case label.StatusInvalid:
		return VerifyInvalid
	case label.StatusRevoked:
		return VerifyRevoked
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

func urlOrigin(u *url.URL) string { return u.Scheme + "://" + u.Host }

func (v *verifier) readCredential(ctx context.Context, arg string) (jws, credOrigin string, err error) {
	var body []byte
	if isHTTPURL(arg) {
		if v.offline {
			return "", "", usagef("--offline needs a credential file, not a URL")
		}
		u, err := credentialURL(arg)
		if err != nil {
			return "", "", err
		}
		if body, err = v.get(ctx, u.String(), label.MediaType, maxCredentialBody); err != nil {
			return "", "", fmt.Errorf("fetching the credential: %w", err)
		}
		credOrigin = urlOrigin(u)
	} else if body, err = readFileLimited(arg, maxCredentialBody); err != nil {
		return "", "", err
	}
	return strings.TrimSpace(string(body)), credOrigin, nil
}

func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// get fetches a URL, refusing error statuses and bodies over limit.
func (v *verifier) get(ctx context.Context, rawURL, accept string, limit int64) ([]byte, error) {
	if !isHTTPURL(rawURL) {
		return nil, fmt.Errorf("%q is not an http(s) URL", rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "hallmark-verify/"+version)
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("GET %s: %d bytes, over the %d byte limit", rawURL, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: over the %d byte limit", rawURL, limit)
	}
	if u := req.URL; u.Scheme == "http" && !v.plainHTTP[u.Host] {
		if v.plainHTTP == nil {
			v.plainHTTP = map[string]bool{}
		}
		v.plainHTTP[u.Host] = true
		v.warnf("%s was reached over plain HTTP, which anyone on the path can alter", urlOrigin(u))
	}
	return b, nil
}

// loadKeys finds the issuer's key set: --keys, or the issuer's origin (from
// the unverified issuer id, else the origin the credential came from). The
// report names where the keys came from, since they decide what "valid" means.
func (v *verifier) loadKeys(ctx context.Context, keysArg string, claims *label.LabelClaims, credOrigin string) (label.PublicKeys, string, error) {
	if keysArg != "" && !isHTTPURL(keysArg) {
		b, err := readFileLimited(keysArg, maxKeysBody)
		if err != nil {
			return nil, "", err
		}
		keys, err := label.ParseJWKS(b)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", keysArg, err)
		}
		return keys, keysArg, nil
	}
	keysURL := keysArg
	if keysURL == "" {
		o := credOrigin
		if claims != nil && isHTTPURL(claims.Issuer.ID) {
			if u, err := url.Parse(claims.Issuer.ID); err == nil && u.Host != "" {
				o = urlOrigin(u)
			}
		}
		if o == "" {
			return nil, "", usagef("cannot tell where the issuer publishes its keys: give --keys FILE|URL")
		}
		keysURL = o + wellKnownKeysPath
	}
	if !v.offline {
		b, err := v.get(ctx, keysURL, "application/jwk-set+json, application/json", maxKeysBody)
		if err == nil {
			keys, perr := label.ParseJWKS(b)
			if perr == nil {
				v.store(keysURL, b)
				return keys, keysURL, nil
			}
			err = perr
		}
		if _, _, cerr := v.load(keysURL); cerr != nil {
			return nil, "", fmt.Errorf("fetching the issuer's keys: %w", err)
		}
		v.warnf("could not fetch the keys from %s (%v); using the cached copy", keysURL, err)
	} else if keysArg != "" {
		return nil, "", usagef("--offline needs --keys to be a file, not a URL")
	}
	b, fetched, err := v.load(keysURL)
	if err != nil {
		return nil, "", fmt.Errorf("no cached keys for %s (%v): verify once online, or give --keys FILE", keysURL, err)
	}
	keys, err := label.ParseJWKS(b)
	if err != nil {
		return nil, "", fmt.Errorf("cached keys for %s: %w", keysURL, err)
	}
	return keys, fmt.Sprintf("%s (cached %s)", keysURL, fetched.UTC().Format(time.RFC3339)), nil
}

// statusList returns a verified snapshot of one status list, or nil (the
// report then says the status is unknown). Online it fetches and caches the
// list, falling back to the cache; offline it reads only the cache.
func (v *verifier) statusList(ctx context.Context, listURL string, keys label.PublicKeys) *label.StatusListSnapshot {
	if !v.offline {
		b, err := v.get(ctx, listURL, label.MediaType, maxStatusBody)
		if err == nil {
			jws := strings.TrimSpace(string(b))
			var snap *label.StatusListSnapshot
			if snap, err = label.VerifyStatusList(jws, keys, v.now); err == nil {
				v.store(listURL, []byte(jws))
				return snap
			}
		}
		v.warnf("could not use the status list %s: %v", listURL, err)
	}
	b, fetched, err := v.load(listURL)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			v.warnf("cached status list for %s: %v", listURL, err)
		}
		return nil
	}
	// A cached list is judged as of when it was fetched: it was current then.
	snap, err := label.VerifyStatusList(string(b), keys, fetched)
	if err != nil {
		v.warnf("cached status list for %s: %v", listURL, err)
		return nil
	}
	if !v.offline {
		v.warnf("using the cached copy of %s fetched %s", listURL, fetched.UTC().Format(time.RFC3339))
	}
	return snap
}

// cacheEntry is one cached document with the time it was fetched: the
// file's mtime would be lost by a copy or a backup.
type cacheEntry struct {
	URL       string    `json:"url"`
	FetchedAt time.Time `json:"fetched_at"`
	Body      string    `json:"body"`
}

func (v *verifier) cachePath(u string) string {
	sum := sha256.Sum256([]byte(u))
	return filepath.Join(v.cache, hex.EncodeToString(sum[:16])+".json")
}

// store caches a document; failing to cache is not worth failing a verification.
func (v *verifier) store(u string, body []byte) {
	if v.cache == "" {
		return
	}
	data, err := json.Marshal(cacheEntry{URL: u, FetchedAt: v.now.UTC(), Body: string(body)})
	if err == nil {
		err = os.MkdirAll(v.cache, 0o700)
	}
	if err == nil {
		var tmp *os.File
		if tmp, err = os.CreateTemp(v.cache, ".tmp-*"); err == nil {
			_, err = tmp.Write(data)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(tmp.Name(), v.cachePath(u))
			}
			if err != nil {
				os.Remove(tmp.Name())
			}
		}
	}
	if err != nil {
		v.warnf("could not cache %s: %v", u, err)
	}
}

func (v *verifier) load(u string) ([]byte, time.Time, error) {
	if v.cache == "" {
		return nil, time.Time{}, fmt.Errorf("no cache directory: %w", fs.ErrNotExist)
	}
	b, err := readFileLimited(v.cachePath(u), 2*maxStatusBody)
	if err != nil {
		return nil, time.Time{}, err
	}
	var e cacheEntry
	if err := json.Unmarshal(b, &e); err != nil || e.URL != u || e.FetchedAt.IsZero() {
		return nil, time.Time{}, fmt.Errorf("unreadable cache file %s", v.cachePath(u))
	}
	return []byte(e.Body), e.FetchedAt, nil
}

func writeVerifyReport(w io.Writer, r label.Result, keysFrom string, warnings []string) {
	line := func(k, format string, args ...any) {
		fmt.Fprintf(w, "%-14s %s\n", k, fmt.Sprintf(format, args...))
	}
	if v := r.Credential; v != nil {
		c := v.Claims
		line("Label", "%s", c.LabelID)
		if c.ID != "" {
			line("Credential", "%s", c.ID)
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
		if c.Issuer.Name != "" {
			line("Issuer", "%s <%s>", c.Issuer.Name, c.Issuer.ID)
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
		line("Signed with", "key %s from %s", v.Key.KID, keysFrom)
		line("SHA-256", "%s", v.Hash)
	}
	line("Status", "%s", strings.ToUpper(string(r.Status)))
	switch {
	case r.Status == label.StatusInvalid:
	case r.StatusAsOf.IsZero():
		line("Status as of", "unknown (no status list could be read)")
	default:
		line("Status as of", "%s", r.StatusAsOf.UTC().Format(time.RFC3339))
	}
	for _, s := range r.Reasons {
		fmt.Fprintf(w, "  - %s\n", s)
	}
	for _, s := range append(slices.Clone(warnings), r.Warnings...) {
		fmt.Fprintf(w, "Warning: %s\n", s)
	}
}
