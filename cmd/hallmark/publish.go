package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/publish"
	"github.com/hallmark-iot/hallmark/internal/web"
)

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("publish", "publish [flags] DIR",
		`Writes the public read path into DIR as static files that a plain web server or a
CDN serves as they are: every label's page in every language (labels/ID/LANG/index.html,
and labels/ID/index.html, the English one), QR code, credential and status answer
(api/v1/labels/ID/status), the status lists (status/PURPOSE/N), the key set, the log's checkpoint and tiles (log/...), the
registry (labels/index.html, registry/labels-N.json), and _headers, the content types
and cache lifetimes in the Netlify / Cloudflare Pages format. Each file holds what
serve answers at that address. Files already up to date are left alone, others are
replaced whole (never half-written). It only reads, so it runs beside a server;
serve --publish DIR keeps such a tree up to date after every decision.`, stderr)
	var d dataFlags
	d.register(fs)
	public := fs.String("public-url", envOr("HALLMARK_PUBLIC_URL", "http://localhost:8080"), "the instance's public URL: the one its labels name (status lists are addressed from it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give the directory to publish into")
	}
	dir := fs.Arg(0)
	srv, closeAll, err := d.openInsight(ctx, *public)
	if err != nil {
		return err
	}
	defer closeAll()
	h, err := httpd.Handler(srv)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p := &publish.Publisher{App: srv, Handler: h, Dir: dir, Static: web.StaticFiles(), LogDir: filepath.Join(d.data, "log"),
		Progress: func(done, total int) { fmt.Fprintf(stderr, "\r%d of %d labels ", done, total) }}
	rep, err := p.All(ctx)
	fmt.Fprintln(stderr)
	if err != nil {
		return fmt.Errorf("publish into %s: %w", dir, err)
	}
	fmt.Fprintf(stdout, "published %d files (%d new or changed), %.1f MB, in %s, into %s\n", rep.Files, rep.Written, float64(rep.Bytes)/1e6, rep.Took.Round(1e6), dir)
	return nil
}
