package brief

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
)

// ErrNoSuchBriefing: the kind of briefing asked for does not exist.
var ErrNoSuchBriefing = errors.New("no such briefing")

// For builds the briefing a URL names (/briefings/{kind}/{name}?query):
// the pages and the command line build the same.
func For(ctx context.Context, app *server.Server, kind, name string, q url.Values, fullURL string) (Briefing, error) {
	base := app.Config().PublicURL
	switch kind {
	case "indicators":
		iq, err := insight.ParseQuery(q)
		if err != nil {
			return Briefing{}, fmt.Errorf("%w: %s", server.ErrInvalid, strings.TrimPrefix(err.Error(), "invalid: "))
		}
		f, def, err := app.Indicator(ctx, name, 0, iq)
		if err != nil {
			return Briefing{}, err
		}
		return Indicator(f, def, base, fullURL), nil
	case "whatif":
		res, err := app.MarketWhatIf(ctx, name, q["add"], 0)
		if err != nil {
			return Briefing{}, err
		}
		levelName := name
		if rs, err := app.Schemes().ResolveRef(app.Catalog(), name); err == nil {
			levelName = rs.Name()
		}
		return WhatIf(res, levelName, base, fullURL), nil
	case "replay":
		rule, err := scheme.ParseRule([]byte(q.Get("rule")))
		if err != nil {
			return Briefing{}, fmt.Errorf("%w: the rule: %v", server.ErrInvalid, err)
		}
		sc := name
		if sc == "all" {
			sc = ""
		}
		res, err := app.Replay(ctx, rule, sc, 0)
		if err != nil {
			return Briefing{}, err
		}
		return Replay(res, base, fullURL), nil
	case "targets":
		v, err := app.Target(ctx, name)
		if err != nil {
			return Briefing{}, err
		}
		return Target(briefOf(v), time.Now(), base, fullURL), nil
	case "compare":
		a, b, ok := strings.Cut(name, "~")
		if !ok {
			return Briefing{}, fmt.Errorf("%w: name the two levels as A~B, for example sg-cls@3~fi-traficom@label", server.ErrInvalid)
		}
		set, c := app.Schemes(), app.Catalog()
		ra, err := set.ResolveRef(c, a)
		if err != nil {
			return Briefing{}, fmt.Errorf("%w: %v", server.ErrInvalid, err)
		}
		rb, err := set.ResolveRef(c, b)
		if err != nil {
			return Briefing{}, fmt.Errorf("%w: %v", server.ErrInvalid, err)
		}
		cp, err := app.Checkpoint(ctx)
		if err != nil && !errors.Is(err, server.ErrNoLog) {
			return Briefing{}, err
		}
		x := scheme.Compare(ra, rb)
		return Compare(x, verdictWords(x.Verdict.Outcome), base, fullURL, time.Now(), cp), nil
	}
	return Briefing{}, fmt.Errorf("%w: there are briefings on indicators, whatif, replay, targets and compare", ErrNoSuchBriefing)
}

func verdictWords(o scheme.Outcome) string {
	switch o {
	case scheme.Recognisable:
		return "Recognisable"
	case scheme.Conditional:
		return "Recognisable with conditions"
	}
	return "Not recognisable"
}

func briefOf(v server.TargetView) TargetBrief {
	return TargetBrief{Target: v.Target, Definition: v.Definition, Progress: v.Progress, Checkpoint: v.Checkpoint, Logged: v.Logged.Logged,
		LogIndex: v.Logged.LogIndex, Intact: v.Intact}
}

// Of is a target's briefing data.
func Of(v server.TargetView) TargetBrief { return briefOf(v) }
