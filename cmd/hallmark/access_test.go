package main

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// tokenWorks opens the data directory as the server would and checks a
// bearer token.
func tokenWorks(t *testing.T, dir, tok string) bool {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "hallmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(ctx, st, server.Config{DataDir: dir, WithoutLog: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	_, err = srv.TokenPrincipal(ctx, tok)
	if err != nil && !errors.Is(err, server.ErrToken) {
		t.Fatalf("token lookup: %v", err)
	}
	return err == nil
}

// The operator's hold on access: tokens created for a user (printed once),
// listed and revoked; users disabled, enabled, and their passwords reset.
func TestTokenAndAccountCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HALLMARK_PASSWORD", "a long enough password")
	const email = "officer@authority.example"
	if code, out, errs := hallmark(t, "", "account", "--data", dir, "--org", "Token Authority", "--kind", "authority", "--schemes", "uk-psti", "--email", email); code != 0 {
		t.Fatalf("account: %d %s %s", code, out, errs)
	}
	code, out, errs := hallmark(t, "", "token", "create", "--data", dir, "--email", email, "--name", "ci", "--expires", "30d")
	tok := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^hm_live_[A-Za-z0-9_-]+$`).MatchString(tok) || !strings.Contains(errs, "shown only this once") {
		t.Fatalf("token create: %d %q %q", code, out, errs)
	}
	if !tokenWorks(t, dir, tok) {
		t.Fatal("the created token does not work")
	}
	code, out, _ = hallmark(t, "", "token", "list", "--data", dir, "--email", email)
	m := regexp.MustCompile(`(?m)^(\d+)\s+active\s+"ci"`).FindStringSubmatch(out)
	if code != 0 || m == nil || strings.Contains(out, tok) {
		t.Fatalf("token list: %d %q", code, out)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"token", "create", "--data", dir, "--email", email, "--expires", "400d"}, 2, "366"},
		{[]string{"token", "create", "--data", dir}, 2, "--email"},
		{[]string{"token", "revoke", "--data", dir}, 2, "token id"},
		{[]string{"token", "revoke", "--data", dir, "x1"}, 2, "token id"},
		{[]string{"token", "list", "--data", dir, "--email", "nobody@authority.example"}, 1, "no user"},
		{[]string{"token", "revoke", "--data", dir, "99999"}, 1, "no token 99999"},
		{[]string{"token", "rotate", "--data", dir}, 2, "create, list or revoke"},
		{[]string{"account", "disable", "--data", dir}, 2, "--email"},
	} {
		if code, out, errs := hallmark(t, "", c.args...); code != c.code || !strings.Contains(out+errs, c.msg) {
			t.Errorf("%v: exit %d %q, want %d with %q", c.args, code, out+errs, c.code, c.msg)
		}
	}
	if code, out, errs := hallmark(t, "", "token", "revoke", "--data", dir, m[1]); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("token revoke: %d %q %q", code, out, errs)
	}
	if tokenWorks(t, dir, tok) {
		t.Error("a revoked token still works")
	}

	// Disabling revokes the user's tokens; enabling brings none back.
	_, out, _ = hallmark(t, "", "token", "create", "--data", dir, "--email", email)
	tok2 := strings.TrimSpace(out)
	if code, out, errs := hallmark(t, "", "account", "disable", "--data", dir, "--email", email); code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("account disable: %d %q %q", code, out, errs)
	}
	if tokenWorks(t, dir, tok2) {
		t.Error("a disabled user's token still works")
	}
	if code, _, errs := hallmark(t, "", "token", "create", "--data", dir, "--email", email); code != 1 || !strings.Contains(errs, "disabled") {
		t.Errorf("a token for a disabled user: %d %q", code, errs)
	}
	if code, _, _ := hallmark(t, "", "account", "enable", "--data", dir, "--email", email); code != 0 {
		t.Fatal("account enable failed")
	}
	if tokenWorks(t, dir, tok2) {
		t.Error("enabling the user brought its token back")
	}

	// The operator resets the password.
	t.Setenv("HALLMARK_PASSWORD", "the operator's new password")
	if code, out, errs := hallmark(t, "", "account", "password", "--data", dir, "--email", email); code != 0 || !strings.Contains(out, "password") {
		t.Fatalf("account password: %d %q %q", code, out, errs)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "hallmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(ctx, st, server.Config{DataDir: dir, WithoutLog: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	if _, _, err := srv.Login(ctx, email, "the operator's new password", "127.0.0.1"); err != nil {
		t.Errorf("sign in with the reset password: %v", err)
	}
}
