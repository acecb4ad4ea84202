// Package trustlist is an authority's signed description of itself, shaped
// after the list of trusted entities of ETSI TS 119 602 (JSON binding): the
// authority as the list's scheme operator and its one trusted entity, whose
// services are its schemes, its label issuance (issuer keys, status lists),
// its transparency log (origin, verifier keys) and its witness, with
// pointers to the trust lists of the peers it recognises, a sequence number
// and a next-update time. The list is a JWS (flattened JSON serialization,
// RFC 7515 §7.2.2) by the authority's active label key; a key change is
// followed by key pivots (label.Pivot) signed by each retired key.
//
// The package holds the format and its checks only: no HTTP, no SQL.
package trustlist

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
)

// Where an authority publishes its trust list, and the JWS type it carries.
const (
	WellKnownPath = "/.well-known/hallmark/trust-list.json"
	JWSType       = "hallmark-lote+jwt"
	MediaType     = "application/jose+json"
)

// Identifiers this list uses where TS 119 602 leaves them to the scheme
// (LoTEType and ServiceTypeIdentifier are URIs a community defines).
const (
	LoTEType        = "https://hallmark-iot.org/lote/authority"
	SvcScheme       = "https://hallmark-iot.org/lote/svc/scheme"
	SvcIssuance     = "https://hallmark-iot.org/lote/svc/label-issuance"
	SvcLog          = "https://hallmark-iot.org/lote/svc/transparency-log"
	SvcWitness      = "https://hallmark-iot.org/lote/svc/witness"
	StatusApproach  = "https://hallmark-iot.org/lote/status/signed-status-lists"
	versionIdentify = 1
)

// Bounds on a list from a stranger: generous for a real authority, small
// enough that a hostile one cannot exhaust a verifier.
const (
	MaxBytes       = 1 << 20
	MaxSchemes     = 512
	MaxKeys        = 64
	MaxStatusLists = 4096
	MaxPeers       = 256
	MaxWitnesses   = 64
	MaxPivots      = 64
	MaxString      = 2048
	// ClockSkew is how far in the future a list's issue time may be.
	ClockSkew = 5 * time.Minute
)

// Errors Verify's errors wrap.
var (
	ErrMalformed = errors.New("malformed trust list")
	ErrSignature = errors.New("trust list signature")
	// ErrNoChain: the list is signed by a key the verifier does not hold
	// and no pivot leads to it from one it does.
	ErrNoChain = errors.New("trust list signed by a key not reached from the pinned ones")
)

// List is a trust list as Go values.
type List struct {
	Authority  string // the authority's URL: its credentials' issuer id
	Name       string
	Sequence   uint64
	Issued     time.Time
	NextUpdate time.Time
	Schemes    []Scheme
	IssuerKeys label.PublicKeys
	// StatusLists are the status list credentials' URLs.
	StatusLists  []string
	LogOrigin    string
	LogURL       string // the tiles' prefix (C2SP tlog-tiles)
	LogVerifiers []string
	// Witnesses are the witnesses whose cosignatures the log's policy
	// counts, and Quorum how many it needs; Witness is this authority's
	// own witness, if it runs one.
	Witnesses []Witness
	Quorum    int
	Witness   *Witness
	Peers     []Peer
	// Pivots are the authority's key pivots, oldest first (label.Pivot).
	Pivots []string
}

// Scheme is one scheme the authority runs.
type Scheme struct {
	ID      string
	Name    string
	Version int
	URL     string
}

// Witness is a C2SP tlog-witness: its note verifier key and where it
// takes checkpoints.
type Witness struct {
	VKey string
	URL  string
}

// Peer is another authority this one recognises: where its trust list is
// and the keys it is signed with, as pinned here.
type Peer struct {
	Authority string
	Name      string
	ListURL   string
	Keys      label.PublicKeys
}

// The wire form, TS 119 602's names.
type (
	wire struct {
		LoTE wireLoTE `json:"LoTE"`
	}
	wireLoTE struct {
		Info     wireInfo     `json:"ListAndSchemeInformation"`
		Entities []wireEntity `json:"TrustedEntitiesList"`
	}
	multiLang struct {
		Lang  string `json:"lang"`
		Value string `json:"value"`
	}
	multiLangURI struct {
		Lang string `json:"lang"`
		URI  string `json:"uriValue"`
	}
	wireInfo struct {
		Version        int            `json:"LoTEVersionIdentifier"`
		Sequence       uint64         `json:"LoTESequenceNumber"`
		Type           string         `json:"LoTEType"`
		Operator       []multiLang    `json:"SchemeOperatorName"`
		InfoURI        []multiLangURI `json:"SchemeInformationURI,omitempty"`
		StatusApproach string         `json:"StatusDeterminationApproach"`
		Issued         string         `json:"ListIssueDateTime"`
		NextUpdate     string         `json:"NextUpdate"`
		Distribution   []string       `json:"DistributionPoints,omitempty"`
		Pointers       []wirePointer  `json:"PointersToOtherLoTE,omitempty"`
		// KeyPivots carries the pivots inline, rather than as separate
		// pivot lists at URIs as the EU list of trusted lists does, so that
		// one document is enough offline.
		KeyPivots []string `json:"KeyPivots,omitempty"`
	}
	wirePointer struct {
		Location   string          `json:"LoTELocation"`
		Identities []wireIdentity  `json:"ServiceDigitalIdentities"`
		Qualifiers []wireQualifier `json:"LoTEQualifiers,omitempty"`
	}
	wireQualifier struct {
		Type     string      `json:"LoTEType"`
		Operator []multiLang `json:"SchemeOperatorName"`
		// Authority is the peer's issuer id (not a TS 119 602 field).
		Authority string `json:"SchemeOperatorURI,omitempty"`
	}
	wireEntity struct {
		Info     wireEntityInfo `json:"TrustedEntityInformation"`
		Services []wireService  `json:"TrustedEntityServices"`
	}
	wireEntityInfo struct {
		Name    []multiLang    `json:"TEName"`
		InfoURI []multiLangURI `json:"TEInformationURI,omitempty"`
	}
	wireService struct {
		Info wireServiceInfo `json:"ServiceInformation"`
	}
	wireServiceInfo struct {
		Type       string         `json:"ServiceTypeIdentifier"`
		Name       []multiLang    `json:"ServiceName"`
		Identity   wireIdentity   `json:"ServiceDigitalIdentity"`
		Definition []multiLangURI `json:"SchemeServiceDefinitionURI,omitempty"`
		Supply     []string       `json:"ServiceSupplyPoints,omitempty"`
		// Extensions TS 119 602 leaves room for: a scheme's id and
		// version, a log's origin, a witness quorum.
		SchemeID      string `json:"SchemeIdentifier,omitempty"`
		SchemeVersion int    `json:"SchemeVersion,omitempty"`
		LogOrigin     string `json:"LogOrigin,omitempty"`
		Quorum        int    `json:"WitnessQuorum,omitempty"`
	}
	wireIdentity struct {
		Keys     []json.RawMessage `json:"PublicKeyValues,omitempty"`
		OtherIDs []string          `json:"OtherIds,omitempty"`
	}
	// flattened is the JWS flattened JSON serialization.
	flattened struct {
		Protected string `json:"protected"`
		Payload   string `json:"payload"`
		Signature string `json:"signature"`
	}
)

func en(s string) []multiLang { return []multiLang{{Lang: "en", Value: s}} }

func sortedKeys(keys label.PublicKeys) []json.RawMessage {
	kids := make([]string, 0, len(keys))
	for k := range keys {
		kids = append(kids, k)
	}
	slices.Sort(kids)
	var out []json.RawMessage
	for _, k := range kids {
		out = append(out, label.JWK(keys[k]))
	}
	return out
}

// Payload is the list's JSON, before signing.
func (l *List) Payload() ([]byte, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	info := wireInfo{
		Version: versionIdentify, Sequence: l.Sequence, Type: LoTEType, Operator: en(l.Name),
		InfoURI: []multiLangURI{{Lang: "en", URI: l.Authority}}, StatusApproach: StatusApproach,
		Issued: l.Issued.UTC().Format(time.RFC3339), NextUpdate: l.NextUpdate.UTC().Format(time.RFC3339),
		Distribution: []string{l.Authority + WellKnownPath}, KeyPivots: l.Pivots,
	}
	for _, p := range l.Peers {
		info.Pointers = append(info.Pointers, wirePointer{Location: p.ListURL, Identities: []wireIdentity{{Keys: sortedKeys(p.Keys)}},
			Qualifiers: []wireQualifier{{Type: LoTEType, Operator: en(p.Name), Authority: p.Authority}}})
	}
	e := wireEntity{Info: wireEntityInfo{Name: en(l.Name), InfoURI: []multiLangURI{{Lang: "en", URI: l.Authority}}}}
	for _, s := range l.Schemes {
		si := wireServiceInfo{Type: SvcScheme, Name: en(s.Name), SchemeID: s.ID, SchemeVersion: s.Version}
		if s.URL != "" {
			si.Definition = []multiLangURI{{Lang: "en", URI: s.URL}}
		}
		e.Services = append(e.Services, wireService{si})
	}
	e.Services = append(e.Services, wireService{wireServiceInfo{Type: SvcIssuance, Name: en("label issuance"),
		Identity: wireIdentity{Keys: sortedKeys(l.IssuerKeys)}, Supply: l.StatusLists}})
	if l.LogOrigin != "" {
		e.Services = append(e.Services, wireService{wireServiceInfo{Type: SvcLog, Name: en("transparency log"), LogOrigin: l.LogOrigin,
			Identity: wireIdentity{OtherIDs: l.LogVerifiers}, Supply: nonEmpty(l.LogURL), Quorum: l.Quorum}})
	}
	for _, w := range l.Witnesses {
		e.Services = append(e.Services, wireService{wireServiceInfo{Type: SvcWitness, Name: en("witness of this log"),
			Identity: wireIdentity{OtherIDs: []string{w.VKey}}, Supply: nonEmpty(w.URL)}})
	}
	if w := l.Witness; w != nil {
		e.Services = append(e.Services, wireService{wireServiceInfo{Type: SvcWitness, Name: en("this authority's witness"),
			Identity: wireIdentity{OtherIDs: []string{w.VKey}}, Supply: nonEmpty(w.URL), SchemeID: "self"}})
	}
	return json.Marshal(wire{LoTE: wireLoTE{Info: info, Entities: []wireEntity{e}}})
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// Sign signs the list with key, the authority's active label key, which
// must be among its issuer keys.
func (l *List) Sign(key label.Key) ([]byte, error) {
	if _, ok := l.IssuerKeys[key.KID]; !ok {
		return nil, fmt.Errorf("the signing key %s is not among the list's issuer keys", key.KID)
	}
	p, err := l.Payload()
	if err != nil {
		return nil, err
	}
	jws, err := label.SignJWS(p, JWSType, key)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(jws, ".")
	b, err := json.MarshalIndent(flattened{Protected: parts[0], Payload: parts[1], Signature: parts[2]}, "", "  ")
	return append(b, '\n'), err
}

// check enforces the bounds on a list, built here or parsed.
func (l *List) check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	if _, err := httpURL(l.Authority); err != nil {
		return bad("the authority %q is not an http(s) URL", l.Authority)
	}
	if l.Sequence < 1 {
		return bad("sequence number %d: it starts at 1", l.Sequence)
	}
	if l.Issued.IsZero() || !l.NextUpdate.After(l.Issued) {
		return bad("the next update (%s) must be after the issue time (%s)", l.NextUpdate.Format(time.RFC3339), l.Issued.Format(time.RFC3339))
	}
	switch {
	case len(l.Schemes) > MaxSchemes:
		return bad("%d schemes, over %d", len(l.Schemes), MaxSchemes)
	case len(l.IssuerKeys) == 0 || len(l.IssuerKeys) > MaxKeys:
		return bad("%d issuer keys: 1 to %d expected", len(l.IssuerKeys), MaxKeys)
	case len(l.StatusLists) > MaxStatusLists:
		return bad("%d status lists, over %d", len(l.StatusLists), MaxStatusLists)
	case len(l.Peers) > MaxPeers:
		return bad("%d peers, over %d", len(l.Peers), MaxPeers)
	case len(l.Witnesses) > MaxWitnesses:
		return bad("%d witnesses, over %d", len(l.Witnesses), MaxWitnesses)
	case len(l.Pivots) > MaxPivots:
		return bad("%d key pivots, over %d", len(l.Pivots), MaxPivots)
	case len(l.LogVerifiers) > MaxKeys:
		return bad("%d log verifier keys, over %d", len(l.LogVerifiers), MaxKeys)
	case l.Quorum < 0 || l.Quorum > len(l.Witnesses):
		return bad("a witness quorum of %d out of %d witnesses", l.Quorum, len(l.Witnesses))
	}
	strs := []string{l.Name, l.LogOrigin, l.LogURL}
	strs = append(strs, l.StatusLists...)
	strs = append(strs, l.LogVerifiers...)
	for _, s := range l.Schemes {
		strs = append(strs, s.ID, s.Name, s.URL)
		if s.ID == "" {
			return bad("a scheme with no identifier")
		}
	}
	for _, p := range l.Peers {
		strs = append(strs, p.Authority, p.Name, p.ListURL)
		if _, err := httpURL(p.ListURL); err != nil {
			return bad("peer %q: its list location %q is not an http(s) URL", p.Authority, p.ListURL)
		}
		if len(p.Keys) == 0 || len(p.Keys) > MaxKeys {
			return bad("peer %q: %d keys", p.Authority, len(p.Keys))
		}
	}
	for _, w := range append(slices.Clone(l.Witnesses), func() []Witness {
		if l.Witness != nil {
			return []Witness{*l.Witness}
		}
		return nil
	}()...) {
		strs = append(strs, w.VKey, w.URL)
		if w.VKey == "" {
			return bad("a witness with no verifier key")
		}
	}
	for _, u := range l.StatusLists {
		if o, err := httpURL(u); err != nil || o != origin(l.Authority) {
			return bad("status list %q is not on the authority's origin", u)
		}
	}
	for _, s := range strs {
		if len(s) > MaxString {
			return bad("a value of %d characters, over %d", len(s), MaxString)
		}
	}
	return nil
}

func httpURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an http(s) URL")
	}
	return u.Scheme + "://" + u.Host, nil
}

func origin(raw string) string { o, _ := httpURL(raw); return o }

// Signed is a parsed, not yet verified, trust list.
type Signed struct {
	List    *List
	KID     string // the kid its header names
	compact string
	// Digest is the SHA-256 of the payload, in hex: two lists with one
	// sequence number and different digests are an equivocation.
	Digest string
}

// Parse reads a signed list without checking its signature: the bounds
// and the format only. Verify is what to trust.
func Parse(b []byte) (*Signed, error) {
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, over the %d byte limit", ErrMalformed, len(b), MaxBytes)
	}
	var f flattened
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: not a JWS in JSON serialization: %v", ErrMalformed, err)
	}
	if f.Protected == "" || f.Payload == "" || f.Signature == "" {
		return nil, fmt.Errorf("%w: the JWS lacks protected, payload or signature", ErrMalformed)
	}
	hdr, err := base64.RawURLEncoding.DecodeString(f.Protected)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(f.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	l, err := parsePayload(payload)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(payload)
	return &Signed{List: l, KID: h.KID, compact: f.Protected + "." + f.Payload + "." + f.Signature, Digest: hex.EncodeToString(sum[:])}, nil
}

func parsePayload(payload []byte) (*List, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, bad("%v", err)
	}
	info := w.LoTE.Info
	if info.Version != versionIdentify || info.Type != LoTEType {
		return nil, bad("LoTE version %d of type %q, want %d of %q", info.Version, info.Type, versionIdentify, LoTEType)
	}
	if len(w.LoTE.Entities) != 1 {
		return nil, bad("%d trusted entities: an authority's list describes itself, one", len(w.LoTE.Entities))
	}
	l := &List{Sequence: info.Sequence, Name: first(info.Operator), Pivots: info.KeyPivots, IssuerKeys: label.PublicKeys{}}
	if len(info.InfoURI) > 0 {
		l.Authority = info.InfoURI[0].URI
	}
	var err error
	if l.Issued, err = time.Parse(time.RFC3339, info.Issued); err != nil {
		return nil, bad("ListIssueDateTime: %v", err)
	}
	if l.NextUpdate, err = time.Parse(time.RFC3339, info.NextUpdate); err != nil {
		return nil, bad("NextUpdate: %v", err)
	}
	if len(info.Pointers) > MaxPeers {
		return nil, bad("%d pointers, over %d", len(info.Pointers), MaxPeers)
	}
	for _, p := range info.Pointers {
		if len(p.Identities) != 1 || len(p.Qualifiers) != 1 {
			return nil, bad("a pointer to another list needs one identity and one qualifier")
		}
		keys, err := parseKeys(p.Identities[0].Keys)
		if err != nil {
			return nil, bad("pointer %s: %v", p.Location, err)
		}
		l.Peers = append(l.Peers, Peer{Authority: p.Qualifiers[0].Authority, Name: first(p.Qualifiers[0].Operator), ListURL: p.Location, Keys: keys})
	}
	services := w.LoTE.Entities[0].Services
	if len(services) > MaxSchemes+MaxWitnesses+2 {
		return nil, bad("%d services", len(services))
	}
	issuance := 0
	for _, s := range services {
		si := s.Info
		switch si.Type {
		case SvcScheme:
			sc := Scheme{ID: si.SchemeID, Name: first(si.Name), Version: si.SchemeVersion}
			if len(si.Definition) > 0 {
				sc.URL = si.Definition[0].URI
			}
			l.Schemes = append(l.Schemes, sc)
		case SvcIssuance:
			issuance++
			if l.IssuerKeys, err = parseKeys(si.Identity.Keys); err != nil {
				return nil, bad("issuer keys: %v", err)
			}
			l.StatusLists = si.Supply
		case SvcLog:
			if l.LogOrigin != "" {
				return nil, bad("two transparency logs")
			}
			l.LogOrigin, l.LogVerifiers, l.Quorum = si.LogOrigin, si.Identity.OtherIDs, si.Quorum
			if len(si.Supply) > 0 {
				l.LogURL = si.Supply[0]
			}
			if l.LogOrigin == "" || len(l.LogVerifiers) == 0 {
				return nil, bad("a transparency log with no origin or no verifier key")
			}
		case SvcWitness:
			if len(si.Identity.OtherIDs) != 1 {
				return nil, bad("a witness needs exactly one verifier key")
			}
			wt := Witness{VKey: si.Identity.OtherIDs[0]}
			if len(si.Supply) > 0 {
				wt.URL = si.Supply[0]
			}
			if si.SchemeID == "self" {
				if l.Witness != nil {
					return nil, bad("two own witnesses")
				}
				l.Witness = &wt
			} else {
				l.Witnesses = append(l.Witnesses, wt)
			}
		default:
			return nil, bad("unknown service type %q", si.Type)
		}
	}
	if issuance != 1 {
		return nil, bad("%d label issuance services, want 1", issuance)
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	return l, nil
}

func first(m []multiLang) string {
	if len(m) == 0 {
		return ""
	}
	return m[0].Value
}

func parseKeys(raws []json.RawMessage) (label.PublicKeys, error) {
	if len(raws) > MaxKeys {
		return nil, fmt.Errorf("%d keys, over %d", len(raws), MaxKeys)
	}
	keys := label.PublicKeys{}
	for _, r := range raws {
		k, err := label.ParseJWK(r)
		if err != nil {
			return nil, err
		}
		if _, dup := keys[k.KID]; dup {
			return nil, fmt.Errorf("kid %q twice", k.KID)
		}
		keys[k.KID] = k
	}
	return keys, nil
}

// Verified is a list whose signature checks, with how its key was reached.
type Verified struct {
	*Signed
	// Via are the pivots followed from the pinned keys, oldest first:
	// "kid1 -> kid2 (at)".
	Via []string
	// SelfSigned: there were no pinned keys; the list vouches only for
	// itself (the first 'peer add', a decision of the user's).
	SelfSigned bool
}

// Stale says whether the list is past its next update at now: it may
// since have been replaced.
func (l *List) Stale(now time.Time) bool { return now.After(l.NextUpdate) }

// Verify checks a signed list. pinned are the keys the verifier already
// holds for this authority (nil on first contact: then the list must be
// signed by one of its own issuer keys, and vouches only for itself). The
// list's signing key is reached from the pinned keys by following the
// list's key pivots; a pinned key marked compromised vouches for nothing
// signed at or after the mark.
func Verify(b []byte, pinned label.PublicKeys, now time.Time) (*Verified, error) {
	s, err := Parse(b)
	if err != nil {
		return nil, err
	}
	l := s.List
	if l.Issued.After(now.Add(ClockSkew)) {
		return nil, fmt.Errorf("%w: issued %s, in the future", ErrMalformed, l.Issued.Format(time.RFC3339))
	}
	v := &Verified{Signed: s}
	known := label.PublicKeys{}
	if pinned == nil {
		v.SelfSigned = true
		for kid, k := range l.IssuerKeys {
			known[kid] = k
		}
	} else {
		for kid, k := range pinned {
			known[kid] = k
		}
		// Follow the pivots: each one signed by a key already known adds its
		// successor. Bounded: every round adds a key or stops.
		for range len(l.Pivots) + 1 {
			added := false
			for _, p := range l.Pivots {
				pv, err := label.VerifyPivot(p, known)
				if err != nil {
					continue // signed by a key not (yet) known, or void
				}
				if _, ok := known[pv.To.KID]; ok {
					continue
				}
				known[pv.To.KID] = pv.To
				v.Via = append(v.Via, fmt.Sprintf("%s -> %s (%s)", pv.From, pv.To.KID, pv.At.UTC().Format(time.RFC3339)))
				added = true
			}
			if !added {
				break
			}
		}
	}
	k, ok := known[s.KID]
	if !ok {
		return nil, fmt.Errorf("%w: it is signed by key %q, and no key pivot in it leads there from the pinned keys %s", ErrNoChain, s.KID, kidList(pinned))
	}
	// The list's own marks count too: a key it says is compromised cannot
	// have signed it.
	if own, ok := l.IssuerKeys[s.KID]; ok && own.Compromised() && (!k.Compromised() || own.CompromisedAt.Before(k.CompromisedAt)) {
		k.CompromisedAt = own.CompromisedAt
	}
	if k.Compromised() && !l.Issued.Before(k.CompromisedAt) {
		return nil, fmt.Errorf("%w: signed with key %s, compromised since %s", ErrSignature, k.KID, k.CompromisedAt.UTC().Format(time.RFC3339))
	}
	payload, _, err := label.VerifyJWS(s.compact, JWSType, label.PublicKeys{k.KID: k})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if sum := sha256.Sum256(payload); hex.EncodeToString(sum[:]) != s.Digest {
		return nil, fmt.Errorf("%w: the verified payload is not the parsed one", ErrSignature)
	}
	if _, ok := l.IssuerKeys[s.KID]; !ok {
		return nil, fmt.Errorf("%w: the signing key %s is not among the list's own issuer keys", ErrSignature, s.KID)
	}
	return v, nil
}

func kidList(keys label.PublicKeys) string {
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	if len(ks) == 0 {
		return "(none)"
	}
	return strings.Join(ks, ", ")
}
