package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// runToken is the operator's hold on API tokens: create one for a user
// (shown once), list a user's, revoke any. They act on the data directory
// while the server runs, which sees a revocation at the next request.
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token", "token create --email E [--name N] [--expires D] | list --email E | revoke ID",
		"Creates, lists and revokes API tokens.\n\n"+
			"create prints the new token on standard output, once: Hallmark keeps only its hash.\n"+
			"--expires is a number of days (90d), a duration (720h) or a date (2027-01-31), from an\n"+
			"hour to 366 days; the default is 90 days. list shows a user's tokens, revoked and expired\n"+
			"ones too. revoke ends a token at once: the next request with it is refused.", stderr)
	var d dataFlags
	d.register(fs)
	email := fs.String("email", "", "the user's e-mail address (create, list)")
	name := fs.String("name", "", "create: what the token is for (default \"issued by the operator\")")
	expires := fs.String("expires", "", "create: when the token expires (default 90d)")
	if err := parse(fs, args); err != nil {
		return err
	}
	// Flags and arguments may come in any order after the subcommand:
	// token revoke --data D 12.
	sub := fs.Arg(0)
	var pos []string
	for rest := fs.Args(); len(rest) > 1; {
		if err := parse(fs, rest[1:]); err != nil {
			return err
		}
		rest = fs.Args()
		if len(rest) > 0 {
			pos = append(pos, rest[0])
		}
	}
	var id int64
	if sub == "revoke" && len(pos) == 1 {
		n, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || n <= 0 {
			return usagef("revoke takes a token id (see 'hallmark token list'), not %q", pos[0])
		}
		id, pos = n, nil
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	switch {
	case sub != "create" && sub != "list" && sub != "revoke":
		return usagef("say create, list or revoke")
	case sub == "revoke" && id == 0:
		return usagef("revoke takes a token id (see 'hallmark token list')")
	case sub != "revoke" && *email == "":
		return usagef("%s needs --email", sub)
	}
	var at time.Time
	if sub == "create" {
		var err error
		if at, err = auth.ParseTokenExpiry(*expires, time.Now()); err != nil {
			return usagef("--expires: %s", strings.TrimPrefix(err.Error(), auth.ErrTokenLifetime.Error()+": "))
		}
	}
	srv, _, closeServer, err := d.openServer(ctx)
	if err != nil {
		return err
	}
	defer closeServer()
	if sub == "revoke" {
		t, err := srv.RevokeAPIToken(ctx, auth.System, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no token %d", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %d %q revoked %s\n", t.ID, t.Name, t.Revoked.UTC().Format(time.RFC3339))
		return nil
	}
	u, err := srv.User(ctx, auth.System, *email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s", *email)
	}
	if err != nil {
		return err
	}
	if sub == "list" {
		ts, err := srv.APITokens(ctx, auth.System, u.ID)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			fmt.Fprintf(stdout, "%s has no API tokens\n", u.Email)
		}
		now := srv.Now()
		for _, t := range ts {
			used := "never used"
			if !t.LastUsed.IsZero() {
				used = "last used " + t.LastUsed.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%d  %-8s  %q  created %s  expires %s  %s\n", t.ID, t.State(now), t.Name,
				t.Created.UTC().Format(time.RFC3339), t.Expires.UTC().Format(time.RFC3339), used)
		}
		return nil
	}
	if u.Disabled {
		return fmt.Errorf("%s is disabled: enable the account first ('hallmark account enable --email %s')", u.Email, u.Email)
	}
	if *name == "" {
		*name = "issued by the operator"
	}
	plain, t, err := srv.CreateAPIToken(ctx, auth.System, u.ID, *name, at)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, plain)
	fmt.Fprintf(stderr, "token %d %q for %s, expires %s; it is shown only this once (Hallmark keeps only its hash)\n",
		t.ID, t.Name, u.Email, t.Expires.UTC().Format(time.RFC3339))
	return nil
}

// runAccountChange is account disable|enable|password --email E: the
// operator takes access back, gives it again, or resets a password.
func runAccountChange(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("account "+sub, "account "+sub+" --email E",
		map[string]string{
			"disable":  "Disables a user: every session ends and every API token is revoked at once.",
			"enable":   "Enables a disabled user again. Sessions and tokens ended by disabling stay ended.",
			"password": "Sets a user's password, read from HALLMARK_PASSWORD; every session of the user ends.",
		}[sub], stderr)
	var d dataFlags
	d.register(fs)
	email := fs.String("email", "", "the user's e-mail address (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *email == "" {
		return usagef("give --email")
	}
	password := os.Getenv("HALLMARK_PASSWORD")
	if sub == "password" && password == "" {
		return usagef("set HALLMARK_PASSWORD to the new password")
	}
	srv, _, closeServer, err := d.openServer(ctx)
	if err != nil {
		return err
	}
	defer closeServer()
	u, err := srv.User(ctx, auth.System, *email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s", *email)
	}
	if err != nil {
		return err
	}
	switch sub {
	case "password":
		if err := srv.ResetPassword(ctx, auth.System, u.ID, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; every session of the user ended\n", u.Email)
	default:
		if err := srv.SetUserDisabled(ctx, auth.System, u.ID, sub == "disable"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %sd%s\n", u.Email, sub, map[bool]string{true: "; its sessions ended and its API tokens were revoked"}[sub == "disable"])
	}
	return nil
}
