// Package tracing sets up OpenTelemetry tracing: server spans for incoming
// HTTP requests, one span per GraphQL operation, client spans for calls to
// SeaTable, and W3C traceparent propagation to SeaTable.
//
// Nothing here is global: the TracerProvider and propagator are created in
// wiring and passed to each layer. When tracing is off (no OTLP endpoint)
// wiring adds none of these layers, so it costs nothing. Spans never carry
// request headers (so never a token) nor the query text.
package tracing

import (
	"context"
	"fmt"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

const instrumentation = "github.com/seatable-graphql/seatable-graphql"

// Propagator is W3C Trace Context: traceparent in, traceparent out.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// NewOTLPProvider returns a provider that batches spans to the OTLP/HTTP
// endpoint configured by the standard OTEL_EXPORTER_OTLP_* variables (read
// by the exporter), with service.name defaulting to serviceName unless
// OTEL_SERVICE_NAME says otherwise. Call Shutdown on exit to flush.
func NewOTLPProvider(ctx context.Context, serviceName string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", serviceName)),
		resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// Handler wraps next with a server span per request, continuing a trace
// whose traceparent the caller sent. Spans are named by method and route
// (only routes listed, so names stay few); requests for which untraced
// returns true (probes, scrapes) get no span.
func Handler(tp trace.TracerProvider, next http.Handler, routes []string, untraced func(path string) bool) http.Handler {
	known := map[string]bool{}
	for _, r := range routes {
		known[r] = true
	}
	return otelhttp.NewHandler(next, "http.server",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(Propagator),
		otelhttp.WithFilter(func(r *http.Request) bool { return !untraced(r.URL.Path) }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			m := method(r.Method)
			if known[r.URL.Path] {
				return m + " " + r.URL.Path
			}
			return m
		}))
}

// Transport wraps next with a client span per upstream call, named
// endpoint(r) (a route template), and injects traceparent into the request.
func Transport(tp trace.TracerProvider, next http.RoundTripper, endpoint func(*http.Request) string) http.RoundTripper {
	return otelhttp.NewTransport(next,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(Propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return endpoint(r) }))
}

func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodOptions, http.MethodHead:
		return m
	}
	return "HTTP"
}

// GraphQL returns a gqlgen extension that runs each operation inside a span
// named after the OpenTelemetry GraphQL conventions ("query Name", or just
// "query" when anonymous), so upstream calls made while resolving it become
// its children. Errors set the span status to the first extensions.code.
func GraphQL(tp trace.TracerProvider) graphql.HandlerExtension {
	return graphQLExtension{tracer: tp.Tracer(instrumentation)}
}

type graphQLExtension struct{ tracer trace.Tracer }

var _ graphql.ResponseInterceptor = graphQLExtension{}

func (graphQLExtension) ExtensionName() string                   { return "OpenTelemetry" }
func (graphQLExtension) Validate(graphql.ExecutableSchema) error { return nil }

func (e graphQLExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	name, opType := "", ""
	if graphql.HasOperationContext(ctx) {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil {
			name, opType = op.Name, string(op.Operation)
		}
	}
	if len(name) > 64 {
		name = name[:64]
	}
	spanName := "GraphQL Operation" // the convention's name for an unparsed document
	if opType != "" {
		spanName = opType
		if name != "" {
			spanName += " " + name
		}
	}
	ctx, span := e.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindInternal))
	defer span.End()
	if opType != "" {
		span.SetAttributes(attribute.String("graphql.operation.type", opType))
	}
	if name != "" {
		span.SetAttributes(attribute.String("graphql.operation.name", name))
	}
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		var errCodes []string
		for _, err := range resp.Errors {
			if c, ok := err.Extensions["code"].(string); ok {
				errCodes = append(errCodes, c)
			}
		}
		span.SetAttributes(attribute.StringSlice("graphql.error.codes", errCodes))
		first := "error"
		if len(errCodes) > 0 {
			first = errCodes[0]
		}
		span.SetStatus(codes.Error, first)
	}
	return resp
}
