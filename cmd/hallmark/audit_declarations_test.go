package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// A declared target and a published report are logged decisions: the
// audit finds one rewritten or withdrawn behind the log's back.
func TestAuditCatchesRewrittenTargetsAndReports(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			ctx := context.Background()
			_, authority, err := inst.Server.Login(ctx, demo.Email(demo.Owners["sg-cls"]), demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			lastMonth := time.Now().AddDate(0, -1, 0).Format("2006-01")
			tg, err := inst.Server.DeclareTarget(ctx, authority, server.TargetDeclaration{Target: insight.Target{
				Title: "Audit test: 90% with 5 years of support", Indicator: "support-5y",
				RefMonth: lastMonth, Value: 0.9, Due: time.Now().AddDate(1, 0, 0).Format("2006-01")}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := inst.Server.PublishReport(ctx, authority, lastMonth)
			if err != nil {
				t.Fatal(err)
			}
			if err := inst.Server.WaitLogged(ctx); err != nil {
				t.Fatal(err)
			}
			state := t.TempDir()
			code, out := audit(t, state, inst.URL)
			if code != 0 || !strings.Contains(out, "1 declared targets and 1 transparency reports checked") {
				t.Fatalf("clean audit: exit %d\n%s", code, out)
			}

			db := behindTheBack(t, inst)
			// The target's value quietly lowered, and the report's summary
			// quietly edited, in the database.
			var body, repBody string
			if err := db.QueryRow(`SELECT body FROM targets WHERE id = $1`, tg.ID).Scan(&body); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(`SELECT body FROM transparency_reports WHERE id = $1`, rep).Scan(&repBody); err != nil {
				t.Fatal(err)
			}
			lowered := strings.Replace(body, `"target_value":0.9`, `"target_value":0.6`, 1)
			if lowered == body {
				t.Fatalf("the stored declaration has no target_value 0.9: %s", body)
			}
			if _, err := db.Exec(`UPDATE targets SET body = $1 WHERE id = $2`, lowered, tg.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`UPDATE transparency_reports SET body = $1 WHERE id = $2`, strings.Replace(repBody, `"summary":"`, `"summary":"All targets met. `, 1), rep); err != nil {
				t.Fatal(err)
			}
			code, out = audit(t, state, inst.URL)
			if code != 3 || !strings.Contains(out, "target "+tg.ID+" is published with a declaration") || !strings.Contains(out, "changed after it was declared") ||
				!strings.Contains(out, "report "+rep+" is served with content") {
				t.Fatalf("audit after rewriting: exit %d\n%s", code, out)
			}

			// Withdrawn: the rows deleted.
			db.Exec(`UPDATE targets SET body = $1 WHERE id = $2`, body, tg.ID)
			if _, err := db.Exec(`DELETE FROM transparency_reports WHERE id = $1`, rep); err != nil {
				t.Fatal(err)
			}
			code, out = audit(t, state, inst.URL)
			if code != 3 || !strings.Contains(out, "report "+rep+" was published in the log") || strings.Contains(out, "target "+tg.ID+" is published with") {
				t.Fatalf("audit after withdrawing the report: exit %d\n%s", code, out)
			}
		})
	}
}
