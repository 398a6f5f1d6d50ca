// Command seatable-graphql serves a GraphQL API over SeaTable's REST API for
// workspaces and bases.
//
// Reading order, the way a request travels:
//
//	server.go     flags, configuration, logger, signals; the demo upstream
//	app/          the assembly: app.New builds the whole handler as a list of
//	              named steps (app/pipeline.go), app.Run serves and drains it
//	graph/        schema, executor, resolvers, the fast read path, replay,
//	              subscriptions; graph/loaders: per-request data
//	upstream/     SeaTable client, its decorators (coalesce, cache), models,
//	              the error table; upstream/fakeseatable for the demo and tests
//
// README.md ("How it works") lists every hop.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/seatable-graphql/seatable-graphql/app"
	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
// Without it the version comes from the module and VCS build information.
var version string

// schemaSDL is the schema the server is generated from, printed by
// -print-schema (with graph.PrintSchema's additions) for client code
// generators and schema registries.
//
//go:embed schema.graphqls
var schemaSDL string

// demoToken is sent to the embedded demo upstream when a request has no
// token; the demo accepts any token.
const demoToken = "demo"

func main() {
	if done, err := handleFlags(os.Args[1:], os.Stdout, os.Stderr); done {
		if err != nil {
			if !errors.Is(err, errUsage) {
				fmt.Fprintln(os.Stderr, err)
			}
			os.Exit(2)
		}
		return
	}
	cfg, err := app.LoadConfig(os.Getenv)
	if err != nil {
		// No logger yet: it is configured by what failed to load. One line
		// per mistake, all of them, each naming its variable.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "seatable-graphql: configuration:", line)
		}
		os.Exit(2)
	}
	log := app.NewLogger(os.Stderr, cfg)
	app.RouteRedisLogs(log)
	mem := app.TuneMemory(os.Getenv, log)
	log.Info("memory", "limit_bytes", mem.Limit, "limit_from", mem.LimitFrom, "gogc", mem.GCPercent, "gogc_from", mem.GCFrom, "gc_headroom_bytes", mem.Headroom)
	if cfg.SeaTableURL == "" {
		url, closeDemo, err := startDemoUpstream()
		if err != nil {
			log.Error("exiting", "err", err)
			os.Exit(1)
		}
		// Closed after app.Run has drained: requests in flight need it.
		defer closeDemo()
		cfg.SeaTableURL, cfg.Demo = url, true
		if cfg.Token == "" {
			cfg.Token = demoToken
		}
		// The demo's data is fake: its playground may write without a token.
		cfg.FallbackTokenWrites = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err = app.Run(ctx, cfg, log)
	stop()
	if err != nil {
		log.Error("exiting", "err", err)
		os.Exit(1)
	}
}

// startDemoUpstream runs the fake SeaTable with the demo dataset on a
// loopback port and returns its URL and a function that stops it.
func startDemoUpstream() (string, func(), error) {
	fake := fakeseatable.New()
	fake.AcceptAnyToken(fakeseatable.Fixture(fakeseatable.Demo))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo upstream: %w", err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// errUsage marks a command-line error the flag package has already
// reported, with the usage text.
var errUsage = errors.New("usage error")

// handleFlags answers the command-line flags. done is true when the process
// should exit (after printing, or on a usage error, which err carries).
// Everything else is configured through the environment.
func handleFlags(args []string, stdout, stderr io.Writer) (done bool, err error) {
	fs := flag.NewFlagSet("seatable-graphql", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: seatable-graphql [-version | -print-schema]\n\n"+
			"Serves GraphQL over SeaTable's REST API. Configuration comes from environment\n"+
			"variables (SEATABLE_URL, LISTEN_ADDR, ...; see docs/configuration.md).\n\n")
		fs.PrintDefaults()
	}
	showVersion := fs.Bool("version", false, "print the version and exit")
	printSchema := fs.Bool("print-schema", false, "print the GraphQL schema (SDL) and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return true, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return true, fmt.Errorf("unexpected arguments %q: configuration is read from the environment", fs.Args())
	}
	switch {
	case *showVersion:
		info, ok := debug.ReadBuildInfo()
		if !ok {
			info = nil
		}
		_, err := fmt.Fprintf(stdout, "seatable-graphql %s (%s)\n", buildVersion(version, info), runtime.Version())
		return true, err
	case *printSchema:
		_, err := io.WriteString(stdout, graph.PrintSchema(schemaSDL))
		return true, err
	}
	return false, nil
}

// buildVersion prefers the version set with -ldflags, then the module
// version (set by `go install module@version`), then the VCS revision that
// `go build` records in a checkout.
func buildVersion(ldflags string, info *debug.BuildInfo) string {
	if ldflags != "" {
		return ldflags
	}
	if info == nil {
		return "unknown"
	}
	v := info.Main.Version
	if v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "devel-" + rev + dirty
}
