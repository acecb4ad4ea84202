package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// runAccount creates organisations and accounts: how an operator sets up
// authorities and assessor labs (manufacturers register themselves).
func runAccount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "disable" || args[0] == "enable" || args[0] == "password") {
		return runAccountChange(ctx, args[0], args[1:], stdout, stderr)
	}
	fs := newFlagSet("account", "account [flags] | account disable|enable|password --email E",
		"Creates an organisation (authority, assessor lab or manufacturer) with its first user.\n"+
			"The password is read from HALLMARK_PASSWORD, so it stays out of the shell history.\n\n"+
			"account disable --email E ends the user's sessions and revokes its API tokens at once;\n"+
			"account enable undoes the disabling; account password sets the user's password from\n"+
			"HALLMARK_PASSWORD and ends every session of the user.", stderr)
	var d dataFlags
	d.register(fs)
	org := fs.String("org", "", "organisation name (required)")
	kind := fs.String("kind", "", "authority, assessor-lab or manufacturer (required)")
	country := fs.String("country", "", "two-letter country code")
	schemes := fs.String("schemes", "", "for an authority: the scheme ids it runs, comma-separated")
	email := fs.String("email", "", "the user's e-mail address (required)")
	name := fs.String("name", "", "the user's name")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *org == "" || *kind == "" || *email == "" {
		return usagef("give --org, --kind and --email")
	}
	password := os.Getenv("HALLMARK_PASSWORD")
	if password == "" {
		return usagef("set HALLMARK_PASSWORD to the new account's password")
	}
	role := map[string]string{"authority": "authority-admin", "assessor-lab": "assessor", "manufacturer": "manufacturer"}[*kind]
	if role == "" {
		return usagef("--kind must be authority, assessor-lab or manufacturer")
	}
	srv, _, closeServer, err := d.openServer(ctx)
	if err != nil {
		return err
	}
	defer closeServer()
	var ids []string
	for _, s := range strings.Split(*schemes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if _, ok := srv.Schemes()[s]; !ok {
				return fmt.Errorf("no scheme %q (see 'hallmark scheme list')", s)
			}
			ids = append(ids, s)
		}
	}
	if *name == "" {
		*name = *email
	}
	p, err := srv.CreateAccount(ctx, auth.System, registry.Organisation{Name: *org, Kind: registry.OrgKind(*kind), Country: *country, Schemes: ids},
		registry.User{Email: *email, Name: *name, Role: role}, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s %q (organisation %d) with user %s (%s)\n", *kind, *org, p.OrgID, p.Email, role)
	return nil
}

// runKeys lists and rotates the issuer's signing keys.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys", "keys [flags] list|rotate|rotate-log|compromise KID --since RFC3339",
		"Lists the label-signing keys, or rotates them: a new key signs from now on and the old\n"+
			"ones stay published, so every label issued before still verifies (a retired key verifies\n"+
			"only what it signed before its retirement). rotate-log rotates the transparency log's\n"+
			"checkpoint key the same way (its origin comes from --public-url).\n\n"+
			"compromise KID --since TIME marks a key compromised from TIME on: everything it signed\n"+
			"dated then or later stops verifying (exit 10), wherever the published key set is read.\n"+
			"The mark is kept in the key's file, published in the JWKS (\"compromised\") and recorded\n"+
			"in the transparency log (key.compromised). An active key is first replaced by a new one.\n"+
			"Restart hallmark serve after rotate or compromise.", stderr)
	publicURL := fs.String("public-url", "http://localhost:8080", "the instance's public URL (names the log for rotate-log)")
	since := fs.String("since", "", "compromise: the time (RFC 3339) from which the key's signatures are void")
	var d dataFlags
	d.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	var kid string
	if fs.Arg(0) == "compromise" && fs.NArg() >= 2 {
		// The flags may follow the key id: keys compromise KID --since T.
		kid = fs.Arg(1)
		if err := parse(fs, fs.Args()[2:]); err != nil {
			return err
		}
		if fs.NArg() != 0 {
			return usagef("compromise takes one key id")
		}
	} else if fs.NArg() != 1 || (fs.Arg(0) != "list" && fs.Arg(0) != "rotate" && fs.Arg(0) != "rotate-log") {
		return usagef("say list, rotate, rotate-log or compromise KID --since RFC3339")
	}
	if fs.Arg(0) == "rotate-log" {
		dir := filepath.Join(d.data, "logkeys")
		_, v, err := tlog.RotateSigner(dir, server.LogOrigin(*publicURL))
		if err != nil {
			return err
		}
		_, all, err := tlog.Verifiers(dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new log key for %s; restart hallmark serve to sign checkpoints with it\n", v.Name())
		for _, k := range all {
			fmt.Fprintln(stdout, k)
		}
		return nil
	}
	ring, err := label.LoadOrCreate(filepath.Join(d.data, "keys"), time.Now())
	if err != nil {
		return err
	}
	if kid != "" {
		if *since == "" {
			return usagef("compromise needs --since RFC3339: when the key may first have been in other hands")
		}
		at, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			return usagef("--since %q is not an RFC 3339 time such as 2026-03-01T12:00:00Z", *since)
		}
		next, err := ring.Compromise(kid, at, time.Now())
		if err != nil {
			return err
		}
		if next != nil {
			fmt.Fprintf(stdout, "key %s was active; new signing key %s replaces it\n", kid, next.KID)
		}
		fmt.Fprintf(stdout, "key %s is compromised since %s: whatever it signed dated then or later no longer verifies; restart hallmark serve to publish this\n",
			kid, at.UTC().Format(time.RFC3339))
	}
	if fs.Arg(0) == "rotate" {
		k, err := ring.Rotate(time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new signing key %s; restart hallmark serve to sign with it\n", k.KID)
	}
	for _, k := range ring.Keys() {
		state := "active"
		if k.Retired() {
			state = "retired " + k.RetiredAt.Format(time.RFC3339)
		}
		if !k.CompromisedAt.IsZero() {
			state += ", compromised since " + k.CompromisedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "%s  created %s  %s\n", k.KID, k.Created.Format(time.RFC3339), state)
	}
	return nil
}
