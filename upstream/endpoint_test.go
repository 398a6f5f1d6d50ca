package upstream

import (
	"net/http"
	"testing"
)

func TestEndpointFoldsIDsAndBasePath(t *testing.T) {
	for _, tc := range []struct {
		base, method, url, want string
	}{
		{"https://cloud.seatable.io", "GET", "https://cloud.seatable.io/api/v2.1/workspaces/?detail=true", "GET /api/v2.1/workspaces/"},
		{"https://host/seatable/", "GET", "https://host/seatable/api/v2.1/workspaces/", "GET /api/v2.1/workspaces/"},
		{"https://host/seatable", "GET", "https://host/seatable/api2/ping/", "GET /api2/ping/"},
		{"https://host/", "DELETE", "https://host/api/v2.1/workspace/42/dtable/", "DELETE /api/v2.1/workspace/{id}/dtable/"},
		{"https://host/", "PUT", "https://host/api/v2.1/dtables/3a4f848c-5fc9-4cc8-bbda-96d7d49a944a/rows", "PUT /api/v2.1/dtables/{id}/rows"},
		{"https://host/", "GET", "https://host/api/v2.1/dtables/My%20Base%20Name/", "GET /api/v2.1/dtables/{id}/"},
		{"https://host/", "GET", "https://host/", "GET /"},
	} {
		c, err := New(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest(tc.method, tc.url, nil)
		if got := c.Endpoint(r); got != tc.want {
			t.Errorf("%s %s (base %s) = %q, want %q", tc.method, tc.url, tc.base, got, tc.want)
		}
	}
}
