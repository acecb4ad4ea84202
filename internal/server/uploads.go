package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/quota"
	"github.com/hallmark-iot/hallmark/internal/sbom"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// ErrTooLarge wraps the refusal of an upload over its size limit.
var ErrTooLarge = errors.New("too large")

// uploadSlots is how many SBOMs are read and parsed at once, and
// slotsPerOrg how many of them one organisation may hold: each costs up to
// its 32 MiB and about as much again while parsed, so this bounds the
// memory uploads take whatever the traffic. slotWait is how long an upload
// waits for a slot before it is refused as busy.
const (
	uploadSlots = 4
	slotsPerOrg = 2
	slotWait    = 30 * time.Second
)

// DefaultRegistrationsPerHour is how many registrations one address may
// attempt in an hour (IPv6 counted by /64, as logins are).
const DefaultRegistrationsPerHour = 10

// initUploads sets the upload limits from the configuration.
func (s *Server) initUploads() {
	s.cfg.Uploads = s.cfg.Uploads.WithDefaults()
	if s.cfg.RegistrationsPerHour <= 0 {
		s.cfg.RegistrationsPerHour = DefaultRegistrationsPerHour
	}
	s.slots = quota.NewSlots(uploadSlots, slotsPerOrg)
	s.registrations = quota.NewRate(s.cfg.RegistrationsPerHour, time.Hour)
}

// AllowRegistration counts one registration attempt from ip, refusing it
// over the hourly limit: each makes an organisation and costs an argon2id
// hash, and anyone may send them.
func (s *Server) AllowRegistration(ip string) error {
	if ok, wait := s.registrations.Take(auth.IPKey(ip), s.now()); !ok {
		return &quota.Exceeded{RetryAfter: wait, Msg: fmt.Sprintf("too many registrations from your address in the last hour; try again in %s",
			max(wait.Round(time.Minute), time.Minute))}
	}
	return nil
}

// purgeUploads deletes the components of SBOMs no version names (a crash
// between storing a new SBOM and deleting the old, or mid-upload).
func (s *Server) purgeUploads() {
	n, err := s.store.PurgeUploads(context.Background(), s.now())
	if err != nil {
		slog.Warn("purging abandoned SBOM uploads failed; the next start tries again", "err", err)
	} else if n > 0 {
		slog.Info("abandoned SBOM uploads purged", "count", n)
	}
}

// usage is the principal's organisation's upload usage now.
func (s *Server) usage(ctx context.Context, p Principal) (quota.Usage, error) {
	u, err := s.store.UploadUsage(ctx, p.OrgID, s.now().Add(-quota.Window))
	return quota.Usage{Uploads: u.Uploads, Bytes: u.Bytes, Oldest: u.Oldest, StoredComponents: u.StoredComponents}, err
}

// ReceiveSBOM reads and parses an uploaded SBOM within the organisation's
// quotas and the server's upload slots. declared is the size the client
// announced (Content-Length; 0 or less if unknown); a body over 32 MiB is
// refused whatever it announced. The caller has checked that p may upload.
func (s *Server) ReceiveSBOM(ctx context.Context, p Principal, body io.Reader, declared int64) (*ParsedSBOM, error) {
	u, err := s.usage(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Uploads.Upload(u, max(declared, 0), s.now()); err != nil {
		return nil, err
	}
	tooLarge := fmt.Errorf("%w: an SBOM is at most %d MiB", ErrTooLarge, sbom.MaxSize>>20)
	if declared > sbom.MaxSize {
		return nil, tooLarge // refused before a byte of it is read
	}
	release, err := s.slots.Acquire(ctx, p.OrgID, slotWait)
	if err != nil {
		return nil, err
	}
	defer release()
	b, err := readLimited(body, sbom.MaxSize, declared)
	var mbe *http.MaxBytesError
	if errors.Is(err, errOverLimit) || errors.As(err, &mbe) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the SBOM could not be read: %v", ErrInvalid, err)
	}
	n := int64(len(b))
	if err := s.cfg.Uploads.Upload(u, n, s.now()); err != nil {
		return nil, err
	}
	sb, err := s.parseSBOM(b)
	if err != nil {
		// A refused upload counts too: parsing it cost as much.
		if rerr := s.store.RecordRefusedUpload(ctx, p.OrgID, n, s.now()); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	return sb, nil
}

// readLimited reads r whole, refusing more than limit bytes with
// errOverLimit. With the size known (declared) it reads into one buffer of
// that size; otherwise into 1 MiB blocks joined at the end, so the memory
// it takes is at most twice what it read, never a doubling series's
// leftovers.
func readLimited(r io.Reader, limit, declared int64) ([]byte, error) {
	r = io.LimitReader(r, limit+1)
	if declared > 0 && declared <= limit {
		b := make([]byte, 0, declared+1)
		for {
			n, err := r.Read(b[len(b):cap(b)])
			b = b[:len(b)+n]
			if errors.Is(err, io.EOF) {
				return b, nil
			}
			if err != nil {
				return nil, err
			}
			if len(b) == cap(b) {
				// More than declared: read on, bounded, the slow way.
				rest, err := readLimited(r, limit-int64(len(b)), 0)
				if err != nil {
					return nil, err
				}
				return append(b, rest...), nil
			}
		}
	}
	const block = 1 << 20
	var blocks [][]byte
	total := int64(0)
	for {
		buf := make([]byte, block)
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			blocks = append(blocks, buf[:n])
			total += int64(n)
		}
		if total > limit {
			return nil, errOverLimit
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(blocks) == 1 {
		return blocks[0], nil
	}
	return bytes.Join(blocks, nil), nil
}

// parseSBOM is ParseSBOM with the server's component cap.
func (s *Server) parseSBOM(b []byte) (*ParsedSBOM, error) {
	return parseSBOM(b, sbom.Limits{MaxComponents: s.cfg.Uploads.SBOMComponents})
}

// checkStoredQuota refuses an SBOM that would take the organisation over
// its stored-components quota; current is what it replaces. A refused
// SBOM counts as an upload, as one refused by the parser does.
func (s *Server) checkStoredQuota(ctx context.Context, p Principal, current int, sb *ParsedSBOM) error {
	u, err := s.usage(ctx, p)
	if err != nil {
		return err
	}
	if qerr := s.cfg.Uploads.Components(u, current, len(sb.Components)); qerr != nil {
		if err := s.store.RecordRefusedUpload(ctx, p.OrgID, sb.Bytes, s.now()); err != nil {
			return err
		}
		return qerr
	}
	return nil
}

func (sb *ParsedSBOM) store() store.SBOM {
	return store.SBOM{Format: sb.Format, Digest: sb.Digest, Bytes: sb.Bytes, Components: sb.Components}
}

// mkdirSynced makes dir and any missing parents, fsyncing the parent of
// each one made, so that a file later written (and fsynced) there is
// found after a power loss.
func mkdirSynced(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirSynced(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// syncDir makes a directory's entries (a rename into it) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return syncFile(d)
}

// syncFile fsyncs f; syncObserved, when set (tests only), sees each one.
func syncFile(f *os.File) error {
	if syncObserved != nil {
		syncObserved(f.Name())
	}
	return f.Sync()
}

var syncObserved func(path string)
