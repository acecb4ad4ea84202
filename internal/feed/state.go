package feed

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/peer"
)

// State is what the polls of one provider have seen, kept between polls
// (as JSON) so that the next one asks only for what changed.
//
// A listing (ROLIE feed, changes.csv, index.txt) keeps its validators only
// once every entry in it is done; until then it is fetched again, and its
// entries done already are skipped by their own records.
type State struct {
	// Seen is, per URL, what its last accepted answer said: the provider
	// metadata and keys (with their bodies, to use on a 304), listings
	// walked whole, and documents handed to the caller.
	Seen map[string]*Seen `json:"seen,omitempty"`
	// Newest is, per ROLIE feed or changes.csv, the listed update time up
	// to which every entry is done.
	Newest map[string]time.Time `json:"newest,omitempty"`
}

// Seen is one URL's record.
type Seen struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Updated is, for a document, the listed update time it was done at.
	Updated time.Time `json:"updated,omitzero"`
	// SHA256 is, for a document, the hex SHA-256 of the bytes handed over:
	// the same bytes again are not handed over twice, even from a server
	// that sends no validators.
	SHA256 string `json:"sha256,omitempty"`
	Body   []byte `json:"body,omitempty"`
}

func (s *State) init() {
	if s.Seen == nil {
		s.Seen = map[string]*Seen{}
	}
	if s.Newest == nil {
		s.Newest = map[string]time.Time{}
	}
}

// maxStateFile bounds a state file: a record is a few hundred bytes, and
// a provider lists at most a few hundred thousand documents.
const maxStateFile = 256 << 20

// StatePath is the file in dir that keeps a provider's state: the
// provider's host, for a person looking, and a hash of the whole
// argument, so that two providers on one host do not share one.
func StatePath(dir, provider string) string {
	host := provider
	if u, err := url.Parse(provider); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	host = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, host)
	if len(host) > 64 {
		host = host[:64]
	}
	sum := sha256.Sum256([]byte(provider))
	return filepath.Join(dir, host+"-"+hex.EncodeToString(sum[:6])+".json")
}

// LoadState reads a state file; a missing one is an empty state.
func LoadState(path string) (*State, error) {
	b, err := peer.ReadFileLimited(path, maxStateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("feed state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("feed state %s: %w", path, err)
	}
	return &s, nil
}

// Save writes the state to path atomically, the file 0600 and its
// directory 0700: it holds what the provider's keys are taken to be.
func (s *State) Save(path string) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := peer.WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("feed state: %w", err)
	}
	return nil
}
