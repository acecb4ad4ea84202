package advisory

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gocsaf/csaf/v3/csaf"
)

// A CSAF provider publishes provider-metadata.json, which names its
// OpenPGP keys and its distributions: directories (with index.txt and
// changes.csv) and ROLIE feeds. These functions only read those files;
// fetching them is done elsewhere.

// MaxFeedSize bounds a ROLIE feed or a directory listing: the largest
// providers list tens of thousands of advisories in one.
const MaxFeedSize = 64 << 20

// ProviderMetadata is what a provider-metadata.json says about where and
// how a provider publishes.
type ProviderMetadata struct {
	CanonicalURL string
	Role         string // csaf_publisher, csaf_provider, csaf_trusted_provider
	Publisher    string
	LastUpdated  time.Time
	Keys         []ProviderKey
	Directories  []string   // distributions[].directory_url
	Feeds        []ROLIERef // distributions[].rolie.feeds[]
}

// ProviderKey is one of the provider's OpenPGP public keys.
type ProviderKey struct {
	Fingerprint string // upper-case hex, "" when not given
	URL         string
}

// ROLIERef is one ROLIE feed of a provider.
type ROLIERef struct {
	TLP string // WHITE, GREEN, AMBER, RED, UNLABELED
	URL string
}

// FeedEntry is one advisory listed by a ROLIE feed or a changes.csv.
type FeedEntry struct {
	ID           string // the ROLIE entry id; "" for a directory listing
	URL          string // as listed: absolute in ROLIE, relative to the directory in changes.csv
	HashURL      string // the .sha512 link when listed, else the .sha256 one
	SignatureURL string
	Updated      time.Time
}

// ParseProviderMetadata reads a provider-metadata.json, checked against
// the CSAF 2.0 provider metadata schema.
func ParseProviderMetadata(b []byte) (*ProviderMetadata, error) {
	const name = "provider-metadata.json"
	if err := checkAgainst(b, MaxDocumentSize, name, csaf.ValidateProviderMetadata); err != nil {
		return nil, err
	}
	var pm struct {
		CanonicalURL string `json:"canonical_url"`
		Role         string `json:"role"`
		LastUpdated  string `json:"last_updated"`
		Publisher    struct {
			Name string `json:"name"`
		} `json:"publisher"`
		Keys []struct {
			Fingerprint string `json:"fingerprint"`
			URL         string `json:"url"`
		} `json:"public_openpgp_keys"`
		Distributions []struct {
			DirectoryURL string `json:"directory_url"`
			ROLIE        *struct {
				Feeds []struct {
					TLPLabel string `json:"tlp_label"`
					URL      string `json:"url"`
				} `json:"feeds"`
			} `json:"rolie"`
		} `json:"distributions"`
	}
	if err := json.Unmarshal(b, &pm); err != nil {
		return nil, named(jsonError(b, err), name)
	}
	out := &ProviderMetadata{CanonicalURL: pm.CanonicalURL, Role: pm.Role, Publisher: pm.Publisher.Name}
	out.LastUpdated, _ = time.Parse(time.RFC3339Nano, pm.LastUpdated) // checked by the schema
	for _, k := range pm.Keys {
		out.Keys = append(out.Keys, ProviderKey{Fingerprint: strings.ToUpper(k.Fingerprint), URL: k.URL})
	}
	for _, d := range pm.Distributions {
		if d.DirectoryURL != "" {
			out.Directories = append(out.Directories, d.DirectoryURL)
		}
		if d.ROLIE != nil {
			for _, f := range d.ROLIE.Feeds {
				out.Feeds = append(out.Feeds, ROLIERef{TLP: f.TLPLabel, URL: f.URL})
			}
		}
	}
	return out, nil
}

// ParseROLIEFeed reads a CSAF ROLIE feed, checked against the CSAF ROLIE
// feed schema, into its entries in feed order.
func ParseROLIEFeed(b []byte) ([]FeedEntry, error) {
	const name = "ROLIE feed"
	if err := checkAgainst(b, MaxFeedSize, name, csaf.ValidateROLIE); err != nil {
		return nil, err
	}
	var feed struct {
		Feed struct {
			ID    string `json:"id"`
			Entry []struct {
				ID      string `json:"id"`
				Updated string `json:"updated"`
				Link    []struct {
					Rel  string `json:"rel"`
					Href string `json:"href"`
				} `json:"link"`
			} `json:"entry"`
		} `json:"feed"`
	}
	if err := json.Unmarshal(b, &feed); err != nil {
		return nil, named(jsonError(b, err), name)
	}
	doc := name + " " + clip(feed.Feed.ID)
	if len(feed.Feed.Entry) > maxStatements {
		return nil, errorf(doc, "feed.entry", "%d entries, over the limit of %d", len(feed.Feed.Entry), maxStatements)
	}
	out := make([]FeedEntry, 0, len(feed.Feed.Entry))
	for i, e := range feed.Feed.Entry {
		fe := FeedEntry{ID: e.ID}
		var err error
		if fe.Updated, err = time.Parse(time.RFC3339Nano, e.Updated); err != nil {
			return nil, errorf(doc, fmt.Sprintf("feed.entry[%d].updated", i), "not an RFC 3339 time: %q", clip(e.Updated))
		}
		for _, l := range e.Link {
			switch {
			case l.Rel == "self":
				fe.URL = l.Href
			case l.Rel == "signature":
				fe.SignatureURL = l.Href
			case l.Rel == "hash" && (fe.HashURL == "" || strings.HasSuffix(l.Href, ".sha512")):
				fe.HashURL = l.Href
			}
		}
		if fe.URL == "" {
			return nil, errorf(doc, fmt.Sprintf("feed.entry[%d].link", i), `no link of rel "self"`)
		}
		out = append(out, fe)
	}
	return out, nil
}

// ParseChangesCSV reads a CSAF directory's changes.csv: one line per
// advisory, its path relative to the directory and when it last changed,
// newest first as the provider writes them.
func ParseChangesCSV(b []byte) ([]FeedEntry, error) {
	const name = "changes.csv"
	if len(b) > MaxFeedSize {
		return nil, errorf(name, "", "%d bytes, over the limit of %d", len(b), MaxFeedSize)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = 2
	r.ReuseRecord = true
	var out []FeedEntry
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, &Error{Doc: name, Msg: "malformed CSV", Err: err}
		}
		at := fmt.Sprintf("line %d", line)
		if err := checkListedPath(rec[0]); err != nil {
			return nil, errorf(name, at, "%v", err)
		}
		t, err := time.Parse(time.RFC3339Nano, rec[1])
		if err != nil {
			return nil, errorf(name, at, "not an RFC 3339 time: %q", clip(rec[1]))
		}
		if len(out) >= maxStatements {
			return nil, errorf(name, at, "more than %d entries", maxStatements)
		}
		out = append(out, FeedEntry{URL: rec[0], Updated: t})
	}
}

// ParseIndexTXT reads a CSAF directory's index.txt: one advisory path
// per line, relative to the directory.
func ParseIndexTXT(b []byte) ([]string, error) {
	const name = "index.txt"
	if len(b) > MaxFeedSize {
		return nil, errorf(name, "", "%d bytes, over the limit of %d", len(b), MaxFeedSize)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<10)
	for n := 1; sc.Scan(); n++ {
		p := strings.TrimSpace(sc.Text())
		if p == "" {
			continue
		}
		if err := checkListedPath(p); err != nil {
			return nil, errorf(name, fmt.Sprintf("line %d", n), "%v", err)
		}
		if len(out) >= maxStatements {
			return nil, errorf(name, fmt.Sprintf("line %d", n), "more than %d entries", maxStatements)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{Doc: name, Msg: "unreadable", Err: err}
	}
	return out, nil
}

// checkListedPath refuses a listed path that could leave the directory
// once a fetcher joins it to the directory URL.
func checkListedPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.HasPrefix(p, "/"), strings.Contains(p, "://"), strings.Contains(p, "\\"):
		return fmt.Errorf("path %q is not relative to the directory", clip(p))
	case p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/.."):
		return fmt.Errorf("path %q leaves the directory", clip(p))
	case !strings.HasSuffix(p, ".json"):
		return fmt.Errorf("path %q is not a .json advisory", clip(p))
	}
	return nil
}

// pointerMessages rewrites gocsaf's "<JSON pointer>: <message>" lines
// into the path notation of this package's errors.
func pointerMessages(msgs []string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m
		if ptr, rest, ok := strings.Cut(m, ": "); ok && (ptr == "" || strings.HasPrefix(ptr, "/")) {
			out[i] = pointerToPath(ptr) + ": " + rest
		}
	}
	return out
}

// checkAgainst bounds a provider document, checks it is well-formed JSON,
// and validates it with one of the CSAF schemas.
func checkAgainst(b []byte, limit int, name string, validate func(any) ([]string, error)) error {
	if err := checkSize(b, limit, name); err != nil {
		return named(err, name)
	}
	if err := checkJSON(b); err != nil {
		return named(err, name)
	}
	v, err := decodeForSchema(b)
	if err != nil {
		return named(err, name)
	}
	msgs, err := validate(v)
	if err != nil {
		return &Error{Doc: name, Msg: "schema validation failed", Err: err}
	}
	if len(msgs) > 0 {
		return violations(name, pointerMessages(msgs))
	}
	return nil
}
