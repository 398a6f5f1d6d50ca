package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// errUsage marks a command-line error the flag package has already
// reported, with the usage text.
var errUsage = errors.New("usage error")

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
// Without it the version comes from the module and VCS build information.
var version string

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
		_, err := io.WriteString(stdout, schemaSDL)
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
