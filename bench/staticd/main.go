// Command staticd is the peer of Hallmark's status lookup benchmark
// (bench/status.sh): a plain net/http file server (http.FileServer) for a
// directory holding files with the same bytes Hallmark answers, on a
// loopback address. Under /mem/ it serves the same files from memory,
// read once at start: the cheapest answer a Go server can give.
//
//	staticd -addr 127.0.0.1:18081 -dir /tmp/static
package main

import (
	"flag"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "loopback address to listen on")
	dir := flag.String("dir", ".", "directory to serve")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintln(os.Stderr, "staticd: -addr must be a loopback address such as 127.0.0.1:18081")
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(*dir)))
	files, err := os.ReadDir(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "staticd:", err)
		os.Exit(1)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(*dir, f.Name()))
		if err != nil || f.IsDir() {
			continue
		}
		ct := mime.TypeByExtension(filepath.Ext(f.Name()))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		mux.HandleFunc("GET /mem/"+f.Name(), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.Write(b)
		})
	}
	// The same server settings as httpd.ListenAndServe, so only the
	// handler differs.
	srv := &http.Server{
		Addr:              *addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "staticd:", err)
		os.Exit(1)
	}
}
