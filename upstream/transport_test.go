package upstream_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestGzipFromUpstream checks that the client asks for gzip (Go's transport
// does, as long as no one sets Accept-Encoding by hand), that a gzipped body
// decodes to the same list as a plain one, and that the raw body handed to
// caches is the uncompressed JSON.
func TestGzipFromUpstream(t *testing.T) {
	fake := fakeseatable.New()
	body := fakeseatable.Generate(20, 10)
	fake.SetToken("tok", body)
	up := httptest.NewServer(fake)
	defer up.Close()
	client, err := upstream.New(up.URL, upstream.WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plain, err := client.ListWorkspaces(ctx, "tok", upstream.Read{Detail: true})
	if err != nil {
		t.Fatal(err)
	}
	fake.SetGzip(true)
	gz, err := client.ListWorkspaces(ctx, "tok", upstream.Read{Detail: true})
	if err != nil {
		t.Fatal(err)
	}
	raw := gz.Body
	reqs := fake.Requests()
	if len(reqs) != 2 || !strings.Contains(reqs[1].AcceptEncoding, "gzip") {
		t.Fatalf("requests %+v: want the second to accept gzip", reqs)
	}
	if !reflect.DeepEqual(plain.Workspaces, gz.Workspaces) {
		t.Fatal("gzipped body decoded differently from the plain one")
	}
	if string(raw) != string(body) || gz.BodyBytes != len(body) {
		t.Fatalf("raw body: %d bytes (BodyBytes %d), want the %d uncompressed bytes", len(raw), gz.BodyBytes, len(body))
	}
	// The fake really compressed: ask for the body by hand.
	req, _ := http.NewRequest(http.MethodGet, up.URL+"/api/v2.1/workspaces/?detail=true", nil)
	req.Header.Set("Authorization", "Token tok")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.ContentLength >= int64(len(body))/2 {
		t.Fatalf("fake answered Content-Encoding %q, %d bytes for a %d-byte body", resp.Header.Get("Content-Encoding"), resp.ContentLength, len(body))
	}
}
