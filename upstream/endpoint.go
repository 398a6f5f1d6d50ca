package upstream

import (
	"context"
	"net/http"
	"regexp"
	"strings"
)

// routeWord is a path segment that names a route rather than a thing: a
// lowercase word, an API root ("api2") or a version ("v2.1"). Every other
// segment (numeric ids, uuids, names) is folded to {id}.
var routeWord = regexp.MustCompile(`^(?:[a-z][a-z_-]{0,40}|api2|v[0-9]+(?:\.[0-9]+)?)$`)

// Endpoint names the route a request to this server took, as "METHOD
// /path/" relative to the base URL with ids folded to {id}; for example
// "GET /api/v2.1/workspaces/". It never contains the query, the host or an
// id, so it is safe as a metric label or a span name.
//
// Calls that name a route themselves (the base calls, whose URL holds a
// base name or another server's path) are labelled with that route.
func (c *Client) Endpoint(r *http.Request) string {
	if route, ok := r.Context().Value(routeKey{}).(string); ok {
		return r.Method + " " + route
	}
	p := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(c.base.Path, "/"))
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range segs {
		if s != "" && !routeWord.MatchString(s) {
			segs[i] = "{id}"
		}
	}
	route := "/" + strings.Join(segs, "/")
	if strings.HasSuffix(p, "/") && route != "/" {
		route += "/"
	}
	return r.Method + " " + route
}

// routeKey carries a call's route template on its context.
type routeKey struct{}

// withRoute labels the calls made with ctx as route (a template such as
// "/api/v2.1/workspace/{id}/dtable/{name}/access-token/").
func withRoute(ctx context.Context, route string) context.Context {
	return context.WithValue(ctx, routeKey{}, route)
}
