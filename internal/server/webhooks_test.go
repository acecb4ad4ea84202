package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/notify"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// receiver is a webhook endpoint on loopback that verifies what it gets
// as the README tells receivers to, and fails the first few attempts at
// each event.
type receiver struct {
	t        *testing.T
	secret   func() string // known once registered
	failures int           // answer 500 to this many attempts at each event
	mu       sync.Mutex
	attempts map[string]int // event id -> attempts seen
	events   []notify.Event // verified, in order of arrival
	problems []string
}

func newReceiver(t *testing.T, failures int) (*receiver, *httptest.Server) {
	r := &receiver{t: t, failures: failures, attempts: map[string]int{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	id := r.Header.Get(notify.HeaderID)
	rc.attempts[id]++
	err := notify.Verify(rc.secret(), r.Header.Get(notify.HeaderSignature), r.Header.Get(notify.HeaderTimestamp), body, time.Now(), time.Minute)
	var ev notify.Event
	if err == nil {
		err = json.Unmarshal(body, &ev)
	}
	switch {
	case err != nil:
		rc.problems = append(rc.problems, err.Error())
	case r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json":
		rc.problems = append(rc.problems, r.Method+" "+r.Header.Get("Content-Type"))
	case fmt.Sprint(ev.ID) != id || ev.Type != "finding.notification":
		rc.problems = append(rc.problems, fmt.Sprintf("header id %s, event %+v", id, ev))
	}
	if rc.attempts[id] <= rc.failures {
		http.Error(w, "not now", http.StatusInternalServerError)
		return
	}
	rc.events = append(rc.events, ev)
	w.WriteHeader(http.StatusNoContent)
}

// watchNotifies makes the post-market watch notify the manufacturer of a
// labelled version, and signs that manufacturer in.
func watchNotifies(t *testing.T, ctx context.Context, inst *servertest.Instance, flaw string) (mfr server.Principal, ingest func()) {
	t.Helper()
	tg := pickTarget(t, ctx, inst.Store)
	_, mfr, err := inst.Server.Login(ctx, demo.Email(tg.Manufacturer), demo.Password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(strings.Split(tg.Components[0].PURL, "@")[0], "pkg:golang/")
	osv := fmt.Sprintf(`{"schema_version": "1.6.0", "id": %q, "modified": "2026-11-01T00:00:00Z", "aliases": ["CVE-2099-7001"],
		"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
		"affected": [{"package": {"ecosystem": "Go", "name": %q}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`, flaw, name)
	kev := `{"title": "test", "catalogVersion": "2026.12.07", "dateReleased": "2026-12-01T00:00:00.000Z", "count": 1,
		"vulnerabilities": [{"cveID": "CVE-2099-7001", "vendorProject": "Test", "product": "Test", "vulnerabilityName": "Test flaw",
		"dateAdded": "2026-11-20", "shortDescription": "A test flaw.", "requiredAction": "Apply updates.", "dueDate": "2026-12-11",
		"knownRansomwareCampaignUse": "Unknown", "notes": ""}]}`
	return mfr, func() {
		rep, err := inst.Server.Ingest(ctx, auth.System, parseAll(t, osv, kev), server.IngestOptions{})
		if err != nil || rep.Notified < 1 {
			t.Fatalf("ingest: %+v %v", rep, err)
		}
	}
}

// waitDelivered waits until every delivery in an endpoint's log is done,
// and returns the log.
func waitDelivered(t *testing.T, ctx context.Context, srv *server.Server, p server.Principal, id int64) []store.WebhookAttempt {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		log, err := srv.WebhookDeliveries(ctx, p, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		done := len(log) > 0
		for _, a := range log {
			done = done && a.State != store.DeliveryPending
		}
		if done {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries to endpoint %d still pending: %+v", id, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Notifications reach registered endpoints, signed with the endpoint's
// secret and freshly timestamped; a receiver that fails twice gets the
// third attempt, and the delivery log records all three. Endpoints are the
// organisation's own, and there are at most five.
func TestWebhookDelivery(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			inst := servertest.StartWith(t, d, func(c *server.Config) {
				c.WebhooksInsecure = true
				c.WebhookSchedule = notify.Schedule{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}
			})
			srv := inst.Server
			mfr, ingest := watchNotifies(t, ctx, inst, "HM-HOOK-2026-0001")

			ok, okSrv := newReceiver(t, 0)
			flaky, flakySrv := newReceiver(t, 2)
			hookOK, err := srv.CreateWebhook(ctx, mfr, okSrv.URL+"/hallmark")
			if err != nil {
				t.Fatal(err)
			}
			hookFlaky, err := srv.CreateWebhook(ctx, mfr, flakySrv.URL+"/hallmark")
			if err != nil {
				t.Fatal(err)
			}
			ok.secret = func() string { return hookOK.Secret }
			flaky.secret = func() string { return hookFlaky.Secret }
			if hookOK.Secret == hookFlaky.Secret || !strings.HasPrefix(hookOK.Secret, "whsec_") {
				t.Fatalf("secrets %q %q", hookOK.Secret, hookFlaky.Secret)
			}
			// Listed, without secrets.
			list, err := srv.Webhooks(ctx, mfr)
			if err != nil || len(list) != 2 || list[0].URL != okSrv.URL+"/hallmark" {
				t.Fatalf("list %+v %v", list, err)
			}
			if b, _ := json.Marshal(list); strings.Contains(string(b), hookOK.Secret) {
				t.Fatal("the list shows a secret")
			}

			ingest()
			okLog := waitDelivered(t, ctx, srv, mfr, hookOK.ID)
			flakyLog := waitDelivered(t, ctx, srv, mfr, hookFlaky.ID)

			notes, err := srv.Notifications(ctx, mfr, 100)
			if err != nil {
				t.Fatal(err)
			}
			ok.mu.Lock()
			defer ok.mu.Unlock()
			if len(ok.problems) > 0 || len(ok.events) == 0 {
				t.Fatalf("the receiver got %d verified event(s); problems: %v", len(ok.events), ok.problems)
			}
			ev := ok.events[0]
			var note registry.Notification
			for _, n := range notes {
				if n.ID == ev.ID {
					note = n
				}
			}
			if note.ID == 0 || ev.Message != note.Message || ev.FindingID != note.FindingID || ev.Rule != note.RuleID || ev.Organisation != mfr.OrgID ||
				!strings.Contains(ev.Message, "HM-HOOK-2026-0001") {
				t.Errorf("event %+v for notification %+v", ev, note)
			}
			for _, a := range okLog {
				if a.State != store.DeliveryDelivered || a.Attempt != 1 || a.StatusCode != http.StatusNoContent {
					t.Errorf("log of the good receiver: %+v", a)
				}
			}

			// The flaky receiver: per event, 500, 500, then 204, all logged.
			flaky.mu.Lock()
			defer flaky.mu.Unlock()
			if len(flaky.problems) > 0 || len(flaky.events) != len(ok.events) {
				t.Fatalf("the flaky receiver got %d event(s), the good one %d; problems: %v", len(flaky.events), len(ok.events), flaky.problems)
			}
			byDelivery := map[int64][]store.WebhookAttempt{}
			for _, a := range flakyLog {
				byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], a)
			}
			for id, n := range flaky.attempts {
				if n != 3 {
					t.Errorf("event %s: %d attempts, want 3", id, n)
				}
			}
			for id, as := range byDelivery {
				// Newest first.
				if len(as) != 3 || as[0].Attempt != 3 || as[0].StatusCode != 204 || as[0].State != store.DeliveryDelivered || !as[0].NextAttempt.IsZero() ||
					as[1].StatusCode != 500 || as[2].StatusCode != 500 || as[2].Attempt != 1 || as[2].NextAttempt.IsZero() {
					t.Errorf("delivery %d log: %+v", id, as)
				}
			}

			// Another organisation sees none of it.
			other := signInOther(t, ctx, inst, mfr.OrgID)
			if l, err := srv.Webhooks(ctx, other); err != nil || len(l) != 0 {
				t.Errorf("another organisation lists %+v %v", l, err)
			}
			if _, err := srv.WebhookDeliveries(ctx, other, hookOK.ID, 0); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("another organisation reads the delivery log: %v", err)
			}
			if err := srv.DeleteWebhook(ctx, other, hookOK.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("another organisation deletes the endpoint: %v", err)
			}

			// Five at most.
			for i := 3; i <= 5; i++ {
				if _, err := srv.CreateWebhook(ctx, mfr, fmt.Sprintf("%s/%d", okSrv.URL, i)); err != nil {
					t.Fatalf("endpoint %d: %v", i, err)
				}
			}
			if _, err := srv.CreateWebhook(ctx, mfr, okSrv.URL+"/6"); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("the sixth endpoint: %v", err)
			}
			// Deleting one makes room, and its log goes with it.
			if err := srv.DeleteWebhook(ctx, mfr, hookOK.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.WebhookDeliveries(ctx, mfr, hookOK.ID, 0); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a deleted endpoint's log: %v", err)
			}
			if _, err := srv.CreateWebhook(ctx, mfr, okSrv.URL+"/6"); err != nil {
				t.Fatalf("after a delete: %v", err)
			}
		})
	}
}

// signInOther signs in a user of an authority (not org).
func signInOther(t *testing.T, ctx context.Context, inst *servertest.Instance, org int64) server.Principal {
	t.Helper()
	orgs, err := inst.Store.Organisations(ctx, registry.Authority)
	if err != nil || len(orgs) == 0 {
		t.Fatalf("no authority: %v", err)
	}
	users, err := inst.Store.Users(ctx, orgs[0].ID)
	if err != nil || len(users) == 0 || orgs[0].ID == org {
		t.Fatalf("no user of authority %d: %v", orgs[0].ID, err)
	}
	_, p, err := inst.Server.Login(ctx, users[0].Email, demo.Password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Without the test-only option, endpoints that reach Hallmark's own host
// or network are refused at registration, and nothing is stored; labs
// have no webhooks at all.
func TestWebhookRefusesPrivateEndpoints(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			inst := servertest.Start(t, d)
			p := signInOther(t, ctx, inst, 0)
			for _, u := range []string{"http://127.0.0.1:8080/hook", "https://127.0.0.1/hook", "https://10.0.0.1/hook", "https://[::1]/hook",
				"https://localhost/hook", "https://localhost./hook", "http://hooks.example.com/", "https://169.254.169.254/latest/meta-data"} {
				if _, err := inst.Server.CreateWebhook(ctx, p, u); !errors.Is(err, server.ErrInvalid) {
					t.Errorf("%s: %v, want refused", u, err)
				}
			}
			if l, err := inst.Server.Webhooks(ctx, p); err != nil || len(l) != 0 {
				t.Errorf("stored: %+v %v", l, err)
			}
			labs, _ := inst.Store.Organisations(ctx, registry.AssessorLab)
			users, _ := inst.Store.Users(ctx, labs[0].ID)
			_, lab, err := inst.Server.Login(ctx, users[0].Email, demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := inst.Server.Webhooks(ctx, lab); !errors.Is(err, server.ErrDenied) {
				t.Errorf("a lab lists webhooks: %v", err)
			}
		})
	}
}
