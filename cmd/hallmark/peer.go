package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/trustlist"
)

const peerDescription = `Manages the peer authorities you recognise by their signed trust lists
(/.well-known/hallmark/trust-list.json, shaped after ETSI TS 119 602): the
list names the authority's label keys, status lists, log and witnesses, and
is pinned in your trust store, so that 'hallmark verify' then verifies the
peer's labels, offline too, with no further trust decision.

  peer add [--name NAME] URL    fetch, check and pin URL's trust list; cache its status lists
                                for --offline. Run again to move to a newer list: it must be
                                signed by a pinned key or one reached from it by the list's
                                key pivots, and not be older than the pinned one.
  peer list                     the pinned peers and their lists
  peer remove ID                stop recognising a peer

--data DIR works on an instance's own store (DIR/peers.json): the peers
that instance names in its own trust list. Otherwise the store is --trust
FILE, default $XDG_CONFIG_HOME/hallmark/trust.json.`

func runPeer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "remove" && args[0] != "list") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(stderr, "Usage: hallmark peer add|remove|list [flags]\n\n%s\n", peerDescription)
			return nil
		}
		return usagef("say add, remove or list (see 'hallmark peer --help')")
	}
	sub := args[0]
	fs := newFlagSet("peer "+sub, "peer "+sub+" [flags] "+map[string]string{"add": "URL", "remove": "ID", "list": ""}[sub], peerDescription, stderr)
	trustPath := fs.String("trust", "", "the trust store file (default $XDG_CONFIG_HOME/hallmark/trust.json)")
	dataDir := fs.String("data", "", "an instance's data directory: use its own peer store (DIR/peers.json) instead")
	var name, cache *string
	if sub == "add" {
		name = fs.String("name", "", "the name to recognise the peer as (default: the name its list gives)")
		cache = fs.String("status-cache", defaultStatusCache(), "where the peer's status lists are cached for 'verify --offline'")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *dataDir != "" {
		if *trustPath != "" {
			return usagef("give --trust or --data, not both")
		}
		*trustPath = filepath.Join(*dataDir, server.PeersFile)
	}
	store, err := loadTrustStore(*trustPath)
	if err != nil {
		return err
	}
	now := clock()
	switch sub {
	case "list":
		if fs.NArg() != 0 {
			return usagef("peer list takes no arguments")
		}
		n := 0
		for _, t := range store.List() {
			if t.TrustList == nil {
				continue
			}
			n++
			p := t.TrustList
			state := "current"
			if now.After(p.NextUpdate) {
				state = "PAST ITS NEXT UPDATE: run 'hallmark peer add " + t.ID + "' to refresh"
			}
			fmt.Fprintf(stdout, "%s  %q  list %d issued %s, next update %s (%s)\n", t.ID, t.Name, p.Sequence,
				p.Issued.UTC().Format(time.RFC3339), p.NextUpdate.UTC().Format(time.RFC3339), state)
			if v, err := t.Verified(now); err != nil {
				fmt.Fprintf(stdout, "  the pinned list no longer verifies: %v\n", err)
			} else {
				printListSummary(stdout, v.List)
			}
		}
		if n == 0 {
			fmt.Fprintf(stdout, "no peers with a pinned trust list in %s\n", store.Path())
		}
		return nil
	case "remove":
		if fs.NArg() != 1 {
			return usagef("name the peer's id (its URL) to remove")
		}
		if !store.Remove(fs.Arg(0)) {
			return fmt.Errorf("%s is not in the trust store %s", fs.Arg(0), store.Path())
		}
		if err := store.Save(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "no longer recognising %s\n", peer.NormalizeIssuerID(fs.Arg(0)))
		return nil
	}
	if fs.NArg() != 1 {
		return usagef("name the peer authority's URL")
	}
	warn := func(s string) { fmt.Fprintln(stderr, "Warning:", s) }
	c, err := peer.New(fs.Arg(0), peer.Options{CacheDir: *cache, UserAgent: "hallmark-peer/" + version, Warn: warn, Now: func() time.Time { return now }})
	if err != nil {
		return usagef("%v", err)
	}
	raw, f, err := c.TrustList(ctx)
	if err != nil {
		return err
	}
	chk, err := store.CheckList(c.BaseURL(), f.URL, raw, now)
	if errors.Is(err, trustlist.ErrNoChain) {
		return fmt.Errorf("%v.\nIf %s really replaced its keys (after a compromise, nothing can vouch for the new ones), confirm the new keys with it out of band, then run 'hallmark peer remove %s' and 'hallmark peer add %s'", err, c.BaseURL(), c.BaseURL(), c.BaseURL())
	}
	if err != nil {
		return err
	}
	t := chk.Issuer
	if *name != "" {
		t.Name = *name
	}
	l := chk.List.List
	switch {
	case chk.New:
		fmt.Fprintf(stdout, "recognising %s as %q by its trust list %d (first contact: the list vouches only for itself;\n  check with the authority that its keys are %s)\n", t.ID, t.Name, l.Sequence, pinnedKIDs(t))
	case !chk.Changed:
		fmt.Fprintf(stdout, "%s: trust list %d is already pinned\n", t.ID, l.Sequence)
	default:
		fmt.Fprintf(stdout, "%s: trust list %d replaces %d\n", t.ID, l.Sequence, chk.Previous)
	}
	for _, via := range chk.List.Via {
		fmt.Fprintf(stdout, "  followed key pivot %s\n", via)
	}
	store.Add(t)
	if err := store.Save(); err != nil {
		return err
	}
	printListSummary(stdout, l)
	// Status lists cached now are what 'verify --offline' uses later.
	cached := 0
	for _, u := range l.StatusLists {
		if _, err := c.StatusList(ctx, u, l.IssuerKeys); err != nil {
			warn(fmt.Sprintf("could not cache %v", err))
			continue
		}
		cached++
	}
	if _, _, err := c.Keys(ctx); err != nil {
		warn(fmt.Sprintf("could not cache the key set: %v", err))
	}
	fmt.Fprintf(stdout, "pinned in %s; %d status lists cached in %s\n", store.Path(), cached, *cache)
	return nil
}

func printListSummary(w io.Writer, l *trustlist.List) {
	fmt.Fprintf(w, "  %d schemes, %d issuer keys, %d status lists\n", len(l.Schemes), len(l.IssuerKeys), len(l.StatusLists))
	if l.LogOrigin != "" {
		fmt.Fprintf(w, "  log %s, %d witnesses, quorum %d\n", l.LogOrigin, len(l.Witnesses), l.Quorum)
	}
	for _, p := range l.Peers {
		fmt.Fprintf(w, "  recognises %s (%s)\n", p.Authority, p.Name)
	}
}

const bundleDescription = `Writes an offline bundle of a peer authority: its trust list, key set,
status lists and a cosigned checkpoint of its log, in one file, for
'hallmark verify --bundle FILE' with the network off (an inspector's
laptop). The peer must already be pinned ('hallmark peer add URL'): the
bundle's list is checked against that pin. A bundle establishes status only
as long as its status lists are valid; verify then says the bundle is too
old.`

func runBundle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bundle", "bundle [--trust FILE] -o FILE URL", bundleDescription, stderr)
	trustPath := fs.String("trust", "", "the trust store file (default $XDG_CONFIG_HOME/hallmark/trust.json)")
	out := fs.String("o", "", "the bundle file to write")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *out == "" {
		return usagef("name the peer's URL and the output file (-o FILE)")
	}
	store, err := loadTrustStore(*trustPath)
	if err != nil {
		return err
	}
	now := clock()
	c, err := peer.New(fs.Arg(0), peer.Options{UserAgent: "hallmark-bundle/" + version, Now: func() time.Time { return now },
		Warn: func(s string) { fmt.Fprintln(stderr, "Warning:", s) }})
	if err != nil {
		return usagef("%v", err)
	}
	b, err := peer.MakeBundle(ctx, c, store, now)
	if err != nil {
		return err
	}
	data, err := b.Marshal()
	if err != nil {
		return err
	}
	if err := peer.WriteFileAtomic(*out, data); err != nil {
		return err
	}
	cp := "no checkpoint (the authority runs no log)"
	if b.Checkpoint != "" {
		cp = fmt.Sprintf("a checkpoint cosigned by %d witnesses", len(b.Cosigners))
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %d status lists, %s; made %s\n", *out, b.Issuer, len(b.StatusLists), cp, b.Created.Format(time.RFC3339))
	return nil
}
