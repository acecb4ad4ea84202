package main

import (
	"context"

	"fmt"
	"io"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/peer"
)

const trustDescription = `Manages your trust store: the issuers whose labels 'hallmark verify' accepts,
each with the name you trust it as and its keys pinned.

  trust add [--name NAME] URL            read URL's key set and log description and pin them
  trust add --keys FILE --issuer ID [--name NAME]
                                         pin a key set you obtained another way
  trust remove ID                        stop trusting an issuer
  trust list                             the trusted issuers and their pinned keys

Trust an issuer only when you know the URL is the authority you mean: a
server can call itself anything. The store is $XDG_CONFIG_HOME/hallmark/trust.json
(~/.config/hallmark/trust.json) unless --trust FILE is given; it is written
0600, atomically.`

func runTrust(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "remove" && args[0] != "list") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(stderr, "Usage: hallmark trust add|remove|list [flags]\n\n%s\n", trustDescription)
			return nil
		}
		return usagef("say add, remove or list (see 'hallmark trust --help')")
	}
	sub := args[0]
	fs := newFlagSet("trust "+sub, "trust "+sub+" [flags] "+map[string]string{"add": "[URL]", "remove": "ID", "list": ""}[sub], trustDescription, stderr)
	trustPath := fs.String("trust", "", "the trust store file (default $XDG_CONFIG_HOME/hallmark/trust.json)")
	var name, keysFile, issuer *string
	if sub == "add" {
		name = fs.String("name", "", "the name to trust the issuer as (default: the name it publishes)")
		keysFile = fs.String("keys", "", "pin the key set in this file (keys.json) instead of fetching it; needs --issuer")
		issuer = fs.String("issuer", "", "with --keys: the issuer id its credentials carry")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	store, err := loadTrustStore(*trustPath)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		if fs.NArg() != 0 {
			return usagef("trust list takes no arguments")
		}
		all := store.List()
		if len(all) == 0 {
			fmt.Fprintf(stdout, "no trusted issuers in %s\n", store.Path())
		}
		for _, t := range all {
			fmt.Fprintf(stdout, "%s  %q  (%s, %s)\n", t.ID, t.Name, t.How, t.Added.UTC().Format(time.RFC3339))
			printPinned(stdout, t)
		}
		return nil
	case "remove":
		if fs.NArg() != 1 {
			return usagef("name the issuer id to remove")
		}
		if !store.Remove(fs.Arg(0)) {
			return fmt.Errorf("%s is not in the trust store %s", fs.Arg(0), store.Path())
		}
		if err := store.Save(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "no longer trusting %s\n", peer.NormalizeIssuerID(fs.Arg(0)))
		return nil
	}
	var t peer.TrustedIssuer
	now := clock()
	switch {
	case *keysFile != "":
		if *issuer == "" || fs.NArg() != 0 {
			return usagef("--keys FILE needs --issuer ID and no URL")
		}
		b, err := peer.ReadFileLimited(*keysFile, peer.MaxKeysBytes)
		if err != nil {
			return err
		}
		keys, err := label.ParseJWKS(b)
		if err != nil {
			return fmt.Errorf("%s: %w", *keysFile, err)
		}
		t = peer.NewTrustedIssuer(*issuer, *name, keys, peer.TrustedByFile, now)
	default:
		if fs.NArg() != 1 || *issuer != "" {
			return usagef("name the authority's URL, or give --keys FILE --issuer ID")
		}
		c, err := peer.New(fs.Arg(0), peer.Options{UserAgent: "hallmark-trust/" + version, Warn: func(s string) { fmt.Fprintln(stderr, "Warning:", s) }})
		if err != nil {
			return usagef("%v", err)
		}
		keys, _, err := c.Keys(ctx)
		if err != nil {
			return err
		}
		info, err := c.LogInfo(ctx)
		if err != nil {
			return fmt.Errorf("the authority's log description: %w", err)
		}
		// The id pinned is the URL the user chose; a server naming another
		// id would have credentials verify as someone the user never named.
		if info.Issuer.ID != "" && peer.NormalizeIssuerID(info.Issuer.ID) != c.BaseURL() {
			return fmt.Errorf("%s says its credentials are issued by %s, not by %s itself: trust that URL instead, if you mean it", c.BaseURL(), info.Issuer.ID, c.BaseURL())
		}
		n := *name
		if n == "" {
			n = info.Issuer.Name
		}
		t = peer.NewTrustedIssuer(c.BaseURL(), n, keys, peer.TrustedByURL, now)
		t.LogOrigin, t.LogVerifiers = info.Origin, info.Verifiers
	}
	if t.Name == "" {
		t.Name = t.ID
	}
	_, replaced := store.Get(t.ID)
	store.Add(t)
	if err := store.Save(); err != nil {
		return err
	}
	verb := "trusting"
	if replaced {
		verb = "trusting anew (the old pin was replaced)"
	}
	fmt.Fprintf(stdout, "%s %s as %q, in %s\n", verb, t.ID, t.Name, store.Path())
	printPinned(stdout, t)
	return nil
}

func printPinned(w io.Writer, t peer.TrustedIssuer) {
	for _, k := range t.Keys {
		state := "active"
		if !k.RetiredAt.IsZero() {
			state = "retired " + k.RetiredAt.UTC().Format(time.RFC3339)
		}
		if !k.CompromisedAt.IsZero() {
			state += ", COMPROMISED since " + k.CompromisedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "  key %s  x=%s  %s\n", k.KID, k.X, state)
	}
}
