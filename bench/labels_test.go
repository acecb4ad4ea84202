package bench

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The labels the benchmarks issue: the ETSI baseline scheme, whose one
// level needs every requirement that captures an EN 303 645 provision.
const (
	benchScheme   = "etsi-baseline"
	benchLevel    = "baseline"
	benchPassword = "bench-password-2026"
)

// labelFixture is a Hallmark server on a fresh database with the three
// parties of a label: the authority that runs benchScheme, an assessor lab
// and a manufacturer with one product. Every step goes through the
// server's exported methods, as the console and the API call them.
type labelFixture struct {
	srv                 *server.Server
	st                  *store.Store
	authority, lab, mfr server.Principal
	product             int64
	findings            []assess.Finding // a pass for every requirement the level needs
	versions            int
}

func newLabelFixture(b *testing.B, d store.Dialect) *labelFixture {
	b.Helper()
	return newLabelFixtureWith(b, d, nil)
}

// newLabelFixtureWith is newLabelFixture with a chance to adjust the
// server's configuration (its public URL, the log's checkpoint interval).
func newLabelFixtureWith(b *testing.B, d store.Dialect, configure func(*server.Config)) *labelFixture {
	b.Helper()
	ctx := context.Background()
	st := benchStore(b, d)
	cheap := auth.TestParams // argon2 costs are not what is measured
	cfg := server.Config{DataDir: b.TempDir(), PublicURL: "https://registry.bench.example",
		IssuerName: "Bench Labelling Authority", PasswordParams: &cheap}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := server.New(ctx, st, cfg)
	if err != nil {
		b.Fatal(err)
	}
	// A server that holds more than its store (the transparency log) has
	// a Close; stop it before the store closes (cleanups run last first).
	if c, ok := any(srv).(interface{ Close(context.Context) error }); ok {
		b.Cleanup(func() { c.Close(context.Background()) })
	}
	f := &labelFixture{srv: srv, st: st}
	if f.authority, err = srv.CreateAccount(ctx, auth.System,
		registry.Organisation{Name: "Bench Labelling Authority", Kind: registry.Authority, Country: "CH", Schemes: []string{benchScheme}},
		registry.User{Email: "authority@bench.example", Name: "Authority Admin", Role: string(auth.RoleAuthorityAdmin)}, benchPassword); err != nil {
		b.Fatal(err)
	}
	if f.lab, err = srv.CreateAccount(ctx, auth.System,
		registry.Organisation{Name: "Bench Test Lab", Kind: registry.AssessorLab, Country: "DE"},
		registry.User{Email: "lab@bench.example", Name: "Lab Assessor", Role: string(auth.RoleAssessor)}, benchPassword); err != nil {
		b.Fatal(err)
	}
	if f.mfr, err = srv.Register(ctx, "Bench Devices Ltd", "GB", "Product Manager", "maker@bench.example", benchPassword); err != nil {
		b.Fatal(err)
	}
	if f.product, err = srv.CreateProduct(ctx, f.mfr, registry.Product{Name: "Bench SmartCam 2", Brand: "Bench", Category: "camera",
		ModelNumber: "BSC-2", PURL: "pkg:generic/bench/smartcam-fw", CPE: "cpe:2.3:h:bench:smartcam_2:-:*:*:*:*:*:*:*", Published: true}); err != nil {
		b.Fatal(err)
	}
	res, err := srv.Schemes().ResolveRef(srv.Catalog(), benchScheme+"@"+benchLevel)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range res.Needs {
		f.findings = append(f.findings, assess.Finding{Requirement: n.Requirement.ID, Verdict: assess.Pass, Rationale: "Verified in the lab."})
	}
	return f
}

// assessed registers a new version of the product and walks an application
// for it to "assessed": applied, submitted, assigned to the lab, every
// requirement passed, completed. It returns the application's id.
func (f *labelFixture) assessed(b *testing.B) int64 {
	b.Helper()
	ctx := context.Background()
	f.versions++
	vid, err := f.srv.CreateVersion(ctx, f.mfr, registry.Version{ProductID: f.product,
		SoftwareVersion: fmt.Sprintf("2.%d.%d", f.versions/1000, f.versions%1000), HardwareVersion: "B",
		Facts: registry.Facts{SupportEnd: "2031-12-31", UpdateMode: "automatic", PasswordType: "unique-per-device",
			SecurityContact: "security@bench.example", Sensors: []string{"video", "audio"}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	app, err := f.srv.Apply(ctx, f.mfr, vid, benchScheme+"@"+benchLevel)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.srv.AddEvidence(ctx, f.mfr, app, "test-report.txt", "text/plain", strings.NewReader("every requirement met")); err != nil {
		b.Fatal(err)
	}
	for _, s := range []struct {
		who  server.Principal
		step assess.Step
		lab  int64
	}{{f.mfr, assess.Submit, 0}, {f.authority, assess.Assign, f.lab.OrgID}} {
		if _, err := f.srv.Step(ctx, s.who, app, s.step, "", s.lab); err != nil {
			b.Fatalf("%s: %v", s.step, err)
		}
	}
	if err := f.st.RecordFindings(ctx, app, f.findings, f.lab.UserID, f.lab.OrgID, time.Now().UTC()); err != nil {
		b.Fatal(err)
	}
	if _, err := f.srv.Step(ctx, f.lab, app, assess.Complete, "", 0); err != nil {
		b.Fatalf("complete: %v", err)
	}
	return app
}

// approve is the authority's decision: what BenchmarkIssueLabel measures.
// server.Step checks the authority may decide, that no finding failed,
// signs the label credential, allocates its status-list index and stores
// label, decision and events in one transaction.
func (f *labelFixture) approve(b *testing.B, app int64) {
	o, err := f.srv.Step(context.Background(), f.authority, app, assess.Approve, "All required requirements met.", 0)
	if err != nil || o.State != assess.Approved {
		b.Fatalf("approve application %d: %v %v", app, o.State, err)
	}
}

// newestLabel is the label issued last.
func (f *labelFixture) newestLabel(b *testing.B) registry.Label {
	b.Helper()
	ls, _, err := f.srv.Labels(context.Background(), store.LabelQuery{Limit: 1})
	if err != nil || len(ls) == 0 {
		b.Fatalf("no label: %v", err)
	}
	return ls[0]
}

// perSecond is the throughput of the benchmark loop just finished.
func perSecond(b *testing.B) float64 {
	return float64(b.N) / b.Elapsed().Seconds()
}

// BenchmarkVerify is a verifier's whole offline check of a label credential
// issued by the server: JWS parsing and the EdDSA-only checks, the key
// lookup, the signature, the VC's shape and validity window, and the
// revocation and suspension bits read from cached status list snapshots.
// The peer is crypto/ed25519.Verify alone on the same signing input and
// signature: the floor no verifier can go below. Run it with -cpu 1.
// Target: hallmark/ed25519 throughput ≥ 0.3. The verifications/s figures
// are each sub-benchmark's own; ratio-vs-ed25519 is measured interleaved
// (see pairedRatio) because the two sub-benchmarks run seconds apart.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	f := newLabelFixture(b, store.SQLite)
	f.approve(b, f.assessed(b))
	l := f.newestLabel(b)
	keys := f.srv.Keys().PublicKeys()
	now := time.Now()
	lists := map[string]*label.StatusListSnapshot{}
	for _, purpose := range []string{label.PurposeRevocation, label.PurposeSuspension} {
		jws, err := f.srv.StatusList(ctx, purpose, l.StatusIndex/label.MinListBits)
		if err != nil {
			b.Fatal(err)
		}
		snap, err := label.VerifyStatusList(jws, keys, now)
		if err != nil {
			b.Fatal(err)
		}
		lists[snap.URL] = snap
	}
	r := label.VerifyOffline(l.Credential, keys, lists, now)
	if r.Status != label.StatusValid || !r.StatusKnown {
		b.Fatalf("the benchmark's label does not verify: %s %v %v", r.Status, r.Reasons, r.Warnings)
	}
	parts := strings.Split(l.Credential, ".")
	input := []byte(parts[0] + "." + parts[1])
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		b.Fatal(err)
	}
	pub := r.Credential.Key.Key
	if !ed25519.Verify(pub, input, sig) {
		b.Fatal("ed25519.Verify refuses the label's signature")
	}
	b.Logf("credential %d bytes (signing input %d bytes), status lists %s", len(l.Credential), len(input), strings.Join(keysOf(lists), ", "))

	raw := func() {
		if !ed25519.Verify(pub, input, sig) {
			panic("bad signature")
		}
	}
	full := func() {
		if r := label.VerifyOffline(l.Credential, keys, lists, now); r.Status != label.StatusValid || !r.StatusKnown {
			panic(fmt.Sprintf("%s %v %v", r.Status, r.Reasons, r.Warnings))
		}
	}
	b.Run("ed25519", func(b *testing.B) {
		for b.Loop() {
			raw()
		}
		b.ReportMetric(perSecond(b), "verifications/s")
	})
	b.Run("hallmark", func(b *testing.B) {
		for b.Loop() {
			full()
		}
		b.ReportMetric(perSecond(b), "verifications/s")
		b.ReportMetric(pairedRatio(time.Second, full, raw), "ratio-vs-ed25519")
	})
}

// pairedRatio is the throughput of f over that of peer, measured in
// alternating slices of about total/40 each, so that other load on the
// machine, which comes and goes, weighs on both alike. It runs with the
// benchmark timer stopped (after b.Loop).
func pairedRatio(total time.Duration, f, peer func()) float64 {
	const rounds = 20
	slice := total / (2 * rounds)
	var nf, np int
	var tf, tp time.Duration
	for range rounds {
		n, d := spin(slice, f)
		nf, tf = nf+n, tf+d
		n, d = spin(slice, peer)
		np, tp = np+n, tp+d
	}
	return (float64(nf) / tf.Seconds()) / (float64(np) / tp.Seconds())
}

// spin calls f until d has passed and says how often and for how long.
func spin(d time.Duration, f func()) (int, time.Duration) {
	start := time.Now()
	for n := 1; ; n++ {
		f()
		if e := time.Since(start); e >= d {
			return n, e
		}
	}
}

func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// BenchmarkIssueLabel measures label issuance end to end: the authority
// approving an assessed application through server.Step (permission and
// findings checks, signing, status-list index, the transaction, and
// whatever the server does after a decision), on SQLite and on PostgreSQL.
// Preparing the assessed applications (version, application, submit,
// assign, findings, complete) runs with the timer stopped.
//
//   - sqlite, postgres: one approval per iteration, one after another, as
//     one authority officer clicks through a queue.
//   - sqlite-x32, postgres-x32: 32 approvals at once per iteration (ns/op
//     is per batch), as a busy authority or an API client would send them.
//
// labels/s is the figure to read. The peer, sign, is label.Issue alone on
// the claims of a label the server issued, with the server's key: issuance
// can go no faster, and ratio-vs-sign is the share of an approval's time
// spent signing.
func BenchmarkIssueLabel(b *testing.B) {
	lite := newLabelFixture(b, store.SQLite)
	lite.approve(b, lite.assessed(b))
	claims, err := label.ParseUnverified(lite.newestLabel(b).Credential)
	if err != nil {
		b.Fatal(err)
	}
	key := lite.srv.Keys().Active()

	var signs []float64 // every sign run's labels/s; the ratio uses their median
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			if _, err := label.Issue(*claims, key); err != nil {
				b.Fatal(err)
			}
		}
		signs = append(signs, perSecond(b))
		b.ReportMetric(signs[len(signs)-1], "labels/s")
	})
	report := func(b *testing.B, labels int) {
		rate := float64(labels) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "labels/s")
		if len(signs) > 0 {
			b.ReportMetric(rate/median(signs), "ratio-vs-sign")
		}
	}
	fixture := func(b *testing.B, d store.Dialect) *labelFixture {
		if d == store.SQLite {
			return lite // one database for every SQLite run: it grows as a real one does
		}
		return newLabelFixture(b, d) // a fresh PostgreSQL database per run
	}
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			f := fixture(b, d)
			for b.Loop() {
				b.StopTimer()
				app := f.assessed(b)
				b.StartTimer()
				f.approve(b, app)
			}
			report(b, b.N)
		})
	}
	const batch = 32
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(fmt.Sprintf("%s-x%d", d, batch), func(b *testing.B) {
			f := fixture(b, d)
			apps := make([]int64, batch)
			for b.Loop() {
				b.StopTimer()
				for i := range apps {
					apps[i] = f.assessed(b)
				}
				b.StartTimer()
				errs := make([]error, batch)
				var wg sync.WaitGroup
				for i, app := range apps {
					wg.Go(func() {
						_, errs[i] = f.srv.Step(context.Background(), f.authority, app, assess.Approve, "All required requirements met.", 0)
					})
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					b.Fatal(err)
				}
			}
			report(b, b.N*batch)
		})
	}
}
