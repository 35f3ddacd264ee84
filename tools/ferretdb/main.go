// Command ferretdb runs an embedded FerretDB v1.24 for local development and
// tests, on PostgreSQL (-postgresql-url, what @chat/infra uses by default) or on
// SQLite (-sqlite-dir, its fallback when PostgreSQL cannot be installed). It is
// built by @chat/infra into tools/bin/ferretdb.
//
// We embed github.com/FerretDB/FerretDB/ferretdb instead of building
// cmd/ferretdb because the latter panics without a generated version.txt
// (upstream issue #2982).
package main

import (
	"context"
	"net/http"
	_ "net/http/pprof" // -pprof-addr: the profile behind a missed benchmark goal
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL URL (postgres://user@host:port/db); when set, the PostgreSQL backend is used and -sqlite-dir is ignored")
	dir := flag.String("sqlite-dir", "", "directory for SQLite databases (created if missing); empty = in-memory")
	level := flag.String("log-level", "warn", "log level: debug, info, warn, error")
	grace := flag.Duration("shutdown-timeout", 500*time.Millisecond, "after SIGTERM/SIGINT, exit at the latest after this long "+
		"(FerretDB otherwise waits ~3 s for idle client connections; every write is already committed by the backend)")
	pprofAddr := flag.String("pprof-addr", "", "when set (e.g. 127.0.0.1:6060), serve Go's pprof there: the CPU profile of FerretDB itself")
	flag.Parse()

	if *pprofAddr != "" {
		go func() {
			if err := http.ListenAndServe(*pprofAddr, nil); err != nil {
				fmt.Fprintf(os.Stderr, "ferretdb: pprof: %v\n", err)
			}
		}()
	}

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad -log-level %q: %v\n", *level, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	sqliteURL := "file:./?mode=memory"
	if *dir != "" && *pgURL == "" {
		abs, err := filepath.Abs(*dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
			os.Exit(2)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: cannot create -sqlite-dir: %v\n", err)
			os.Exit(2)
		}
		sqliteURL = "file:" + strings.TrimSuffix(abs, "/") + "/"
	}

	conf := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	}
	backend := "sqlite " + sqliteURL
	if *pgURL != "" {
		conf.Handler = "postgresql"
		conf.PostgreSQLURL = *pgURL
		conf.SQLiteURL = ""
		backend = "postgresql " + redact(*pgURL)
	}

	f, err := ferretdb.New(conf)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	go func() {
		<-ctx.Done()
		time.Sleep(*grace)
		fmt.Fprintln(os.Stderr, "ferretdb: shutdown timeout, exiting")
		os.Exit(0)
	}()

	fmt.Fprintf(os.Stderr, "ferretdb: listening on %s (%s), pid %d\n", f.MongoDBURI(), backend, os.Getpid())
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "ferretdb: stopped")
}

// redact hides a password in a PostgreSQL URL, so the log never holds one.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
