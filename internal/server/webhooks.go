package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/input"
	"github.com/hallmark-iot/hallmark/internal/notify"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// Webhooks: an organisation's notifications, sent as signed POSTs to the
// endpoints it registers. The store queues a delivery per endpoint in the
// transaction that stores the notification; the sender goroutine below
// works through the queue behind the requests, so no request waits on a
// receiver, and what is pending survives a restart. Delivery is at least
// once: receivers drop duplicates by the event id.

// The sender's bounds.
const (
	senderBatch   = 16              // deliveries claimed at once
	senderWorkers = 4               // attempts in flight at once
	senderLease   = 2 * time.Minute // a claimed delivery is another sender's again after this
	senderPoll    = time.Minute     // look at the queue at least this often (leases run out, other instances queue)
	maxAttemptErr = 500             // bytes of an attempt's error kept in the log
)

// webhookSender sends queued deliveries until Close.
type webhookSender struct {
	policy   notify.Policy
	client   *http.Client
	schedule notify.Schedule
	wake     chan struct{} // a delivery was queued
	stop     context.CancelFunc
	done     chan struct{} // closed when the sender has stopped
}

// startSender runs the sender until Close.
func (s *Server) startSender() {
	sched := s.cfg.WebhookSchedule
	if sched == nil {
		sched = notify.DefaultSchedule
	}
	pol := notify.Policy{Insecure: s.cfg.WebhooksInsecure}
	ctx, cancel := context.WithCancel(context.Background())
	s.hooks = &webhookSender{policy: pol, client: pol.Client(), schedule: sched, wake: make(chan struct{}, 1), stop: cancel, done: make(chan struct{})}
	go s.runSender(ctx)
}

// stopSender stops the sender and waits for it. An attempt cut short is
// not recorded; its lease runs out and it is made again.
func (s *Server) stopSender() {
	if s.hooks == nil {
		return
	}
	s.hooks.stop()
	<-s.hooks.done
	s.hooks.client.CloseIdleConnections()
}

// wakeSender tells the sender a delivery may have been queued.
func (s *Server) wakeSender() {
	if s.hooks == nil {
		return
	}
	select {
	case s.hooks.wake <- struct{}{}:
	default: // already woken; it will see this one too
	}
}

func (s *Server) runSender(ctx context.Context) {
	defer close(s.hooks.done)
	t := time.NewTimer(0) // whatever a restart left pending, at once
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.hooks.wake:
		case <-t.C:
		}
		t.Reset(s.sendDue(ctx))
	}
}

// sendDue makes every attempt that is due and says how long to sleep.
// Deliveries run on the wall clock, not Config.Clock: receivers check
// the timestamp against theirs.
func (s *Server) sendDue(ctx context.Context) time.Duration {
	for ctx.Err() == nil {
		now := time.Now()
		batch, err := s.store.ClaimDeliveries(ctx, now, now.Add(senderLease), senderBatch)
		if err != nil {
			if ctx.Err() == nil {
				slog.Warn("webhook deliveries could not be read; retrying", "err", err)
			}
			return 30 * time.Second
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, senderWorkers)
		for _, d := range batch {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				s.attempt(ctx, d)
			})
		}
		wg.Wait()
		if len(batch) < senderBatch {
			break
		}
	}
	next, ok, err := s.store.NextDeliveryDue(ctx)
	if err != nil || !ok {
		return senderPoll
	}
	return min(max(time.Until(next), 0), senderPoll)
}

// attempt makes one attempt at a delivery and records it: 2xx is
// delivered; anything else is retried by the schedule, then given up.
func (s *Server) attempt(ctx context.Context, d store.Delivery) {
	status, err := s.hooks.post(ctx, d)
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and it is made again
	}
	r := store.AttemptResult{DeliveryID: d.ID, Attempt: d.Attempts + 1, At: time.Now(), StatusCode: status, State: store.DeliveryDelivered}
	if err != nil || status < 200 || status > 299 {
		if err != nil {
			r.Error = clip(err.Error(), maxAttemptErr)
		}
		r.State = store.DeliveryFailed
		if wait, again := s.hooks.schedule.Retry(r.Attempt); again {
			r.State, r.Next = store.DeliveryPending, r.At.Add(wait)
		}
	}
	if err := s.store.RecordAttempt(ctx, r); err != nil && ctx.Err() == nil {
		slog.Warn("a webhook attempt could not be recorded; it will be made again", "delivery", d.ID, "err", err)
	}
}

// post sends one delivery and answers the receiver's status.
func (h *webhookSender) post(ctx context.Context, d store.Delivery) (int, error) {
	// The URL is checked again: the policy may be stricter than when it
	// was registered (a test-only option since turned off).
	u, err := h.policy.CheckURL(d.URL)
	if err != nil {
		return 0, err
	}
	body := notify.Event{ID: d.NotificationID, Organisation: d.OrgID, FindingID: d.FindingID, Rule: d.RuleID, Message: d.Message, CreatedAt: d.CreatedAt}.Body()
	ctx, cancel := context.WithTimeout(ctx, notify.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Hallmark-Webhook/1")
	req.Header.Set(notify.HeaderID, strconv.FormatInt(d.NotificationID, 10))
	req.Header.Set(notify.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(notify.HeaderSignature, notify.Sign(d.Secret, ts, body))
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Read a little so the connection can be reused; the answer means
	// nothing to Hallmark beyond its status.
	io.Copy(io.Discard, io.LimitReader(resp.Body, notify.MaxResponseBody))
	return resp.StatusCode, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// NewWebhook is a just-registered endpoint with its signing secret, shown
// this once.
type NewWebhook struct {
	store.Webhook
	Secret string `json:"secret"`
}

// CreateWebhook registers an endpoint for the principal's organisation:
// an https URL whose host resolves only to public addresses.
func (s *Server) CreateWebhook(ctx context.Context, p Principal, rawURL string) (NewWebhook, error) {
	if err := allow(p, auth.ActionWebhookManage, auth.Object{}); err != nil {
		return NewWebhook{}, err
	}
	if err := checkText("url", rawURL, input.Line); err != nil {
		return NewWebhook{}, err
	}
	pol := notify.Policy{Insecure: s.cfg.WebhooksInsecure}
	u, err := pol.CheckURL(strings.TrimSpace(rawURL))
	if err == nil {
		err = pol.CheckHost(ctx, net.DefaultResolver, u)
	}
	if err != nil {
		return NewWebhook{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	secret := notify.NewSecret()
	now := s.now()
	id, err := s.store.CreateWebhook(ctx, p.OrgID, u.String(), secret, notify.MaxEndpoints, now)
	if err != nil {
		return NewWebhook{}, err
	}
	return NewWebhook{Webhook: store.Webhook{ID: id, OrgID: p.OrgID, URL: u.String(), CreatedAt: now}, Secret: secret}, nil
}

// Webhooks lists the principal's organisation's endpoints.
func (s *Server) Webhooks(ctx context.Context, p Principal) ([]store.Webhook, error) {
	if err := allow(p, auth.ActionWebhookManage, auth.Object{}); err != nil {
		return nil, err
	}
	return s.store.Webhooks(ctx, p.OrgID)
}

// webhook reads an endpoint the principal may manage.
func (s *Server) webhook(ctx context.Context, p Principal, id int64) (store.Webhook, error) {
	w, err := s.store.Webhook(ctx, id)
	if err != nil {
		return w, err
	}
	return w, allow(p, auth.ActionWebhookManage, auth.Object{Owner: w.OrgID})
}

// DeleteWebhook removes one of the organisation's endpoints and what is
// queued for it.
func (s *Server) DeleteWebhook(ctx context.Context, p Principal, id int64) error {
	if _, err := s.webhook(ctx, p, id); err != nil {
		return err
	}
	return s.store.DeleteWebhook(ctx, id)
}

// MaxDeliveryLog bounds one read of an endpoint's delivery log.
const MaxDeliveryLog = 200

// WebhookDeliveries is an endpoint's delivery log, newest first: every
// attempt, and deliveries not yet attempted.
func (s *Server) WebhookDeliveries(ctx context.Context, p Principal, id int64, limit int) ([]store.WebhookAttempt, error) {
	if _, err := s.webhook(ctx, p, id); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxDeliveryLog {
		limit = MaxDeliveryLog
	}
	return s.store.WebhookAttempts(ctx, id, limit)
}
